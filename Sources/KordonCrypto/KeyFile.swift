import COpenSSL
import Foundation
import KordonCore

/// A secret key kept in its own file: the pseudonym key of the rule packs (and,
/// with the gateway service, the quarantine and audit-log keys).
///
/// A missing file is created on first use with 32 random bytes from OpenSSL's
/// CSPRNG, mode 0600, in a directory created with mode 0700. It is written whole and
/// flushed with its directory (``DurableFile``, without replacing: a crash never leaves
/// an empty or partial key, nor loses the key that sealed the quarantine), so two
/// processes starting at once end up with the same key: the loser of the race reads
/// the winner's file.
public enum KeyFile {
    /// Bytes in a key Kordon creates.
    public static let keyLength = 32

    /// Reads the key at `path`, creating it first when it does not exist.
    public static func loadOrCreate(at path: String) throws -> [UInt8] {
        if let existing = try read(path) { return existing }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                     attributes: [.posixPermissions: 0o700])
        }
        let key = try randomBytes(keyLength)
        do {
            try DurableFile.write(Data(key), to: URL(fileURLWithPath: path), mode: 0o600, replace: false)
        } catch let error as KordonError {
            // Another process created it first (the no-overwrite link failed): use that one.
            if FileManager.default.fileExists(atPath: path) { return try readRaced(path) }
            throw KordonError(code: "key.create", message: "cannot create key file \(path): \(error.message)")
        }
        return key
    }

    /// The key at `path`, or `nil` when there is no file. A file that is empty,
    /// or readable by group or others, is refused.
    public static func read(_ path: String) throws -> [UInt8]? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw KordonError(code: "key.unreadable", message: "cannot read key file \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw KordonError(code: "key.permissions", message: "key file \(path) is readable by others; run chmod 600 on it")
        }
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else {
            throw KordonError(code: "key.unreadable", message: "key file \(path) is empty or unreadable")
        }
        return [UInt8](data)
    }

    /// Reads a key another process has just created, giving it a moment to finish writing.
    private static func readRaced(_ path: String) throws -> [UInt8] {
        for _ in 0..<50 {
            if let info = try? FileManager.default.attributesOfItem(atPath: path),
               (info[.size] as? Int ?? 0) >= keyLength, let key = try read(path) {
                return key
            }
            usleep(10_000)
        }
        throw KordonError(code: "key.unreadable", message: "key file \(path) stayed empty; delete it and start again")
    }

    /// `count` bytes from OpenSSL's CSPRNG.
    public static func randomBytes(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        guard RAND_bytes(&bytes, Int32(count)) == 1 else {
            throw KordonError(code: "crypto.random", message: "OpenSSL's random generator failed")
        }
        return bytes
    }
}
