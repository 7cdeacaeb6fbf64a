import Foundation

/// Finds Kordon's own `signatures/` and `schemas/`, whether it runs from the
/// repository (`.build/debug/kordon`) or is installed (`/usr/local/bin/kordon`
/// with `/usr/local/share/kordon`).
public enum ResourceLocator {
    /// The located resource directories.
    public struct Found: Sendable, Equatable {
        /// The directory holding both.
        public var root: URL
        /// `root/signatures`.
        public var signatures: URL { root.appendingPathComponent("signatures") }
        /// `root/schemas`.
        public var schemas: URL { root.appendingPathComponent("schemas") }
        /// `root/rules`, the national rule packs.
        public var rules: URL { root.appendingPathComponent("rules") }
        /// `root/fixtures`, present in a repository checkout.
        public var fixtures: URL { root.appendingPathComponent("fixtures") }
    }

    /// Looks, in order, at `$KORDON_HOME`; the executable's directory and its
    /// ancestors (a repository checkout); `../share/kordon` beside the executable;
    /// `/usr/local/share/kordon` and `/usr/share/kordon`; the current directory.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) -> Found? {
        var candidates: [URL] = []
        if let home = environment["KORDON_HOME"], !home.isEmpty {
            candidates.append(URL(fileURLWithPath: home))
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(directory)
            candidates.append(directory.appendingPathComponent("share/kordon"))
            directory = directory.deletingLastPathComponent()
        }
        candidates.append(URL(fileURLWithPath: "/usr/local/share/kordon"))
        candidates.append(URL(fileURLWithPath: "/usr/share/kordon"))
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        return candidates.lazy.map { Found(root: $0.standardizedFileURL) }.first(where: isComplete)
    }

    private static func isComplete(_ found: Found) -> Bool {
        var isDirectory: ObjCBool = false
        let manager = FileManager.default
        return manager.fileExists(atPath: found.signatures.path, isDirectory: &isDirectory) && isDirectory.boolValue
            && manager.fileExists(atPath: found.schemas.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
