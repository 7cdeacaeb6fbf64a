import Foundation
import KordonCore

/// Expands the paths given to `kordon scan` into the files to scan: files as
/// given, directories walked recursively in a stable (sorted) order.
public enum MessageSource {
    /// Every regular file under `paths`. Throws a ``KordonError`` for a path that
    /// does not exist, so a typo is a usage error rather than an empty, "clean" run.
    public static func files(under paths: [String]) throws -> [String] {
        var result: [String] = []
        let manager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw KordonError(code: "scan.path", message: "\(path) does not exist: give files or directories to scan")
            }
            guard isDirectory.boolValue else {
                result.append(path)
                continue
            }
            guard let walker = manager.enumerator(atPath: path) else { continue }
            var found: [String] = []
            while let relative = walker.nextObject() as? String {
                let full = (path as NSString).appendingPathComponent(relative)
                var childIsDirectory: ObjCBool = false
                if manager.fileExists(atPath: full, isDirectory: &childIsDirectory), !childIsDirectory.boolValue {
                    found.append(full)
                }
            }
            result += found.sorted()
        }
        return result
    }
}

