import Foundation
import KordonCore
import KordonCrypto
import Synchronization

/// Compiled Hyperscan databases kept on disk between runs: `kordon filter` starts
/// once per message, and compiling the packs is most of its start-up.
///
/// Why every file is authenticated: a cached database is what the matcher trusts
/// to find restricted data. Whoever could put a file into the cache could plant a
/// database that matches nothing — compiled from a harmless pattern, stored under
/// the key of the real packs — and every message would then pass the
/// restricted-data stage as clean: detection switched off without touching the
/// packs or the configuration, and without a trace. So a file is used only when
/// 1. the directory and the file are owned by the effective user and writable by no
///    one else (``CacheDirectory``), and
/// 2. it carries an HMAC-SHA256 over its key and contents under a secret only this
///    user can read (`cache.key`, mode 0600, created on first use).
///
/// The HMAC also covers what ownership cannot: a cache copied from another host or
/// restored from a backup, a file renamed to another key, a truncated or damaged
/// file. Anything that fails a check is ignored and replaced by a fresh compile:
/// the cache can make start-up faster, never change what is found.
///
/// A file is named `<key>.hsdb`, the key being the hex SHA-256 of everything that
/// determines the database (``key(for:)``). Its layout:
/// ```
///  offset  bytes
///       0      8  magic "KRDNHSDB"
///       8      4  format version, UInt32 little-endian (``formatVersion``)
///      12     32  the key
///      44      8  n, the length of the database, UInt64 little-endian
///      52      n  the database, as hs_serialize_database wrote it
///    52+n     32  HMAC-SHA256 of bytes 0 ..< 52+n, keyed with cache.key
/// ```
///
/// Thread-safe: the directory is only read and written through atomic renames,
/// and the tally sits behind a mutex. Processes sharing a cache race harmlessly:
/// each writes a whole file of its own and renames it into place.
final class DatabaseCache: Sendable {
    /// Our part of every key and file; bump it when either changes meaning.
    static let formatVersion: UInt32 = 1
    static let magic = Array("KRDNHSDB".utf8)
    /// The secret keying every file's HMAC, inside the cache directory.
    static let keyFileName = "cache.key"
    /// Far larger than any database of the packs (a few MB); bounds what one read allocates.
    static let sizeLimit = 256 << 20
    private static let headerSize = 8 + 4 + 32 + 8
    private static let macSize = 32

    private let directory: CacheDirectory
    private let authenticator: HMACSHA256
    private let environment: HyperscanDatabase.Environment
    private let tally = Mutex(RuleCacheReport())

    /// Opens the cache in `url` (created with mode 0700) and its HMAC key (created
    /// with mode 0600). Throws a `rules.cache.*` error when either cannot be trusted;
    /// the caller then compiles without a cache.
    init(directory url: URL) throws {
        guard let environment = HyperscanDatabase.environment else {
            throw KordonError(code: "rules.cache.platform", message: "Hyperscan does not describe its platform; compiling without a cache")
        }
        let directory = try CacheDirectory(url)
        let created = try KeyFile.loadOrCreate(at: url.appendingPathComponent(Self.keyFileName).path)
        // Read again through the checked directory (no symbolic link, this user's,
        // 0600 or stricter): the key used is the one inside the directory checked.
        guard case .bytes(let key) = directory.contents(of: Self.keyFileName, limit: 4096, mask: 0o077),
              key == created, key.count >= KeyFile.keyLength else {
            throw KordonError(code: "rules.cache.key",
                              message: "the rule cache key \(directory.path)/\(Self.keyFileName) must be a regular file of this user, mode 0600, of at least \(KeyFile.keyLength) bytes")
        }
        self.directory = directory
        self.environment = environment
        self.authenticator = try HMACSHA256(key: key)
    }

    /// What the cache did so far.
    var report: RuleCacheReport { tally.withLock { $0 } }

    /// The database of `patterns`: read from the cache when a trusted file holds
    /// it, compiled (and stored) otherwise. Throws only what compiling throws.
    func database(for patterns: [HyperscanPattern]) throws(HyperscanError) -> HyperscanDatabase {
        guard let key = key(for: patterns) else { return try compile(patterns) }
        let name = key.map { String(format: "%02x", $0) }.joined() + ".hsdb"
        switch directory.contents(of: name, limit: Self.sizeLimit) {
        case .bytes(let file):
            if let payload = unsealed(file, key: key) {
                if let database = try? HyperscanDatabase(serialized: payload) {
                    tally.withLock { $0.loaded += 1 }
                    return database
                }
                refuse(name, "was made by another Hyperscan or for another CPU, or is damaged")
            } else {
                refuse(name, "fails its authentication (damaged, truncated or not written by this cache)")
            }
        case .refused(let problem):
            refuse(name, problem)
        case .missing:
            break
        }
        let database = try compile(patterns)
        if let payload = database.serialized(), let file = sealed(payload, key: key), directory.replace(name, with: file) {
            tally.withLock { $0.written += 1 }
        }
        return database
    }

    /// The SHA-256 of everything that determines the database of `patterns`: our
    /// format version, Hyperscan's version, platform and target CPU features
    /// (``HyperscanDatabase/Environment``), then each pattern's expression, flags and
    /// id, in order, every variable-length part preceded by its length so no two
    /// lists give the same bytes. `nil` should OpenSSL fail (all-zero digest).
    func key(for patterns: [HyperscanPattern]) -> [UInt8]? {
        var bytes = Array("kordon.hyperscan-cache\u{0}".utf8)
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        append(Self.formatVersion)
        append(UInt64(environment.fingerprint.count))
        bytes += environment.fingerprint
        append(UInt64(patterns.count))
        for pattern in patterns {
            append(UInt64(pattern.expression.utf8.count))
            bytes += pattern.expression.utf8
            append(pattern.flags)
            append(pattern.id)
        }
        return try? SHA256Digest.bytes(Data(bytes))
    }

    /// The file holding `payload` under `key`; `nil` should OpenSSL fail.
    func sealed(_ payload: [UInt8], key: [UInt8]) -> [UInt8]? {
        var file = Self.magic
        file.reserveCapacity(Self.headerSize + payload.count + Self.macSize)
        withUnsafeBytes(of: Self.formatVersion.littleEndian) { file += $0 }
        file += key
        withUnsafeBytes(of: UInt64(payload.count).littleEndian) { file += $0 }
        file += payload
        guard let mac = try? authenticator.authenticate(file) else { return nil }
        return file + mac
    }

    /// The database bytes in `file`, when it is whole, of this format, for `key`,
    /// and its HMAC checks out; `nil` otherwise.
    func unsealed(_ file: [UInt8], key: [UInt8]) -> [UInt8]? {
        guard file.count >= Self.headerSize + Self.macSize else { return nil }
        let body = Array(file[..<(file.count - Self.macSize)])
        guard let expected = try? authenticator.authenticate(body) else { return nil }
        // Compared in full whatever the first difference, so timing tells nothing.
        let difference = zip(expected, file[body.count...]).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) }
        guard difference == 0,
              Array(body[0..<8]) == Self.magic,
              Self.integer(UInt32.self, in: body, at: 8) == Self.formatVersion,
              Array(body[12..<44]) == key,
              Self.integer(UInt64.self, in: body, at: 44) == UInt64(body.count - Self.headerSize) else { return nil }
        return Array(body[Self.headerSize...])
    }

    private func compile(_ patterns: [HyperscanPattern]) throws(HyperscanError) -> HyperscanDatabase {
        let database = try HyperscanDatabase(patterns: patterns)
        tally.withLock { $0.compiled += 1 }
        return database
    }

    private func refuse(_ name: String, _ problem: String) {
        tally.withLock {
            $0.refused += 1
            $0.problems.append("\(directory.path)/\(name) \(problem); recompiled")
        }
    }

    private static func integer<T: FixedWidthInteger>(_: T.Type, in bytes: [UInt8], at offset: Int) -> T {
        bytes[offset..<offset + MemoryLayout<T>.size].reversed().reduce(T.zero) { $0 << 8 | T($1) }
    }
}
