import CHyperscan
import Foundation
import Synchronization

/// One expression for ``HyperscanDatabase``.
struct HyperscanPattern: Sendable {
    /// The regular expression, matched byte by byte (no `HS_FLAG_UTF8`: invalid
    /// UTF-8 in untrusted text must not be undefined behaviour).
    var expression: String
    /// Reported back with every match.
    var id: UInt32
    /// Ask Hyperscan for the leftmost start of each match (only for bounded,
    /// variable-width expressions; fixed-width ones compute the start from the end).
    var reportsStart: Bool = false
    /// Report only the first match (a presence test).
    var singleMatch: Bool = false

    /// The Hyperscan flags this expression is compiled with (part of a cached database's key).
    var flags: UInt32 {
        var flags = UInt32(HS_FLAG_DOTALL)
        if reportsStart { flags |= UInt32(HS_FLAG_SOM_LEFTMOST) }
        if singleMatch { flags |= UInt32(HS_FLAG_SINGLEMATCH) }
        return flags
    }
}

/// Why Hyperscan refused an expression, in its own words.
struct HyperscanError: Error, Sendable {
    /// Index of the offending expression in the compiled list, when Hyperscan names one.
    var patternIndex: Int?
    /// Hyperscan's message.
    var message: String
}

/// Owns one compiled vectored-mode Hyperscan database and the scratch spaces used to scan it.
///
/// `@unchecked Sendable`: Hyperscan documents a compiled database as read-only and
/// safe to share between threads; scratch space is not, so every scan takes a
/// scratch of its own from a mutex-guarded pool (cloned from a prototype allocated
/// right after compilation) and gives it back afterwards. No pointer leaves this file.
final class HyperscanDatabase: @unchecked Sendable {
    private let database: OpaquePointer
    private let prototype: OpaquePointer
    private let pool = Mutex<[Scratch]>([])
    /// Scratch spaces kept for reuse; more concurrent scans clone and free extra ones.
    private let poolLimit = 16

    /// The byte width of the matches `expression` can produce; `nil` maximum when unbounded.
    static func width(of expression: String) throws(HyperscanError) -> (minimum: Int, maximum: Int?) {
        var info: UnsafeMutablePointer<hs_expr_info_t>?
        var error: UnsafeMutablePointer<hs_compile_error_t>?
        let status = hs_expression_info(expression, UInt32(HS_FLAG_DOTALL), &info, &error)
        guard status == HS_SUCCESS, let info else {
            let message = error.flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "error \(status)"
            if let error { hs_free_compile_error(error) }
            throw HyperscanError(patternIndex: 0, message: message)
        }
        defer { free(info) }
        let maximum = info.pointee.max_width == UInt32.max ? nil : Int(info.pointee.max_width)
        return (Int(info.pointee.min_width), maximum)
    }

    /// Compiles `patterns` into one vectored-mode database and allocates the prototype scratch.
    ///
    /// Vectored mode lets every scan present the text between two one-byte guards
    /// (the real neighbouring bytes of a window, or spaces at the text's ends), so
    /// boundary classes at a pattern's edges always consume exactly one byte and
    /// match offsets need no guessing at the ends of the text.
    convenience init(patterns: [HyperscanPattern]) throws(HyperscanError) {
        guard hs_valid_platform() == HS_SUCCESS else { throw Self.unsupportedPlatform }
        guard !patterns.isEmpty else {
            throw HyperscanError(patternIndex: nil, message: "no patterns to compile")
        }
        let expressions = patterns.map { strdup($0.expression) }
        defer { expressions.forEach { free($0) } }
        let flags = patterns.map(\.flags)
        let ids = patterns.map(\.id)
        var database: OpaquePointer?
        var error: UnsafeMutablePointer<hs_compile_error_t>?
        let status = expressions.map { UnsafePointer($0) }.withUnsafeBufferPointer { expressionBuffer in
            hs_compile_multi(expressionBuffer.baseAddress, flags, ids, UInt32(patterns.count),
                             Self.mode, nil, &database, &error)
        }
        guard status == HS_SUCCESS, let database else {
            let index = error.map { Int($0.pointee.expression) }.flatMap { $0 >= 0 ? $0 : nil }
            let message = error.flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "error \(status)"
            if let error { hs_free_compile_error(error) }
            throw HyperscanError(patternIndex: index, message: message)
        }
        try self.init(adopting: database)
    }

    /// Rebuilds a database from the bytes ``serialized()`` produced, in this process
    /// or an earlier one. Refused unless the bytes name the Hyperscan version, CPU
    /// features and mode this process compiles for (``Environment/info``), both
    /// before and after deserialization: a database built for other features could
    /// fail every scan or be slower; one of another mode would not scan at all.
    /// Hyperscan checks its own header and checksum; the caller checks the origin.
    convenience init(serialized bytes: [UInt8]) throws(HyperscanError) {
        guard hs_valid_platform() == HS_SUCCESS else { throw Self.unsupportedPlatform }
        guard let environment = Self.environment else {
            throw HyperscanError(patternIndex: nil, message: "Hyperscan does not describe its platform")
        }
        guard !bytes.isEmpty else { throw HyperscanError(patternIndex: nil, message: "empty serialized database") }
        var database: OpaquePointer?
        let status = bytes.withUnsafeBufferPointer { buffer -> hs_error_t in
            let start = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            var info: UnsafeMutablePointer<CChar>?
            guard hs_serialized_database_info(start, buffer.count, &info) == HS_SUCCESS, let info else { return HS_INVALID }
            defer { free(info) }
            guard String(cString: info) == environment.info else { return HS_DB_VERSION_ERROR }
            return hs_deserialize_database(start, buffer.count, &database)
        }
        guard status == HS_SUCCESS, let database else {
            throw HyperscanError(patternIndex: nil, message: "cannot deserialize the database (error \(status))")
        }
        guard Self.info(of: database) == environment.info else {
            hs_free_database(database)
            throw HyperscanError(patternIndex: nil, message: "the deserialized database targets another platform")
        }
        try self.init(adopting: database)
    }

    /// Takes ownership of `database` (freed on failure) and allocates the prototype scratch.
    private init(adopting database: OpaquePointer) throws(HyperscanError) {
        var scratch: OpaquePointer?
        let scratchStatus = hs_alloc_scratch(database, &scratch)
        guard scratchStatus == HS_SUCCESS, let scratch else {
            hs_free_database(database)
            throw HyperscanError(patternIndex: nil, message: "cannot allocate scratch space (error \(scratchStatus))")
        }
        self.database = database
        self.prototype = scratch
    }

    /// The database as bytes for ``init(serialized:)``; `nil` when Hyperscan cannot serialize it.
    func serialized() -> [UInt8]? {
        var bytes: UnsafeMutablePointer<CChar>?
        var length = 0
        guard hs_serialize_database(database, &bytes, &length) == HS_SUCCESS, let bytes else { return nil }
        defer { free(bytes) }
        return Array(UnsafeRawBufferPointer(start: bytes, count: length))
    }

    /// Hyperscan's one-line description of `database`: `Version: 5.4.0 Features: AVX2 Mode: VECTORED`.
    private static func info(of database: OpaquePointer) -> String? {
        var info: UnsafeMutablePointer<CChar>?
        guard hs_database_info(database, &info) == HS_SUCCESS, let info else { return nil }
        defer { free(info) }
        return String(cString: info)
    }

    private static let mode = UInt32(HS_MODE_VECTORED)

    private static var unsupportedPlatform: HyperscanError {
        HyperscanError(patternIndex: nil, message: "this CPU lacks the SSSE3 instructions Hyperscan needs")
    }

    /// What a compiled database depends on besides its patterns, for cache keys.
    struct Environment: Sendable {
        /// Hyperscan's version and build date, the `hs_platform_info_t` fields, the
        /// compile mode and ``info``, as bytes.
        let fingerprint: [UInt8]
        /// The description of a probe database compiled here: version, the CPU
        /// features Hyperscan targets, mode. Every database this process compiles
        /// carries the same line; a cached one must too.
        let info: String
    }

    /// This process's ``Environment``, worked out once; `nil` when Hyperscan cannot
    /// describe its platform (no cache is used then).
    ///
    /// The probe database is needed because Debian's multi-CPU ("fat runtime")
    /// Hyperscan reports no CPU features through `hs_populate_platform`, while the
    /// databases it compiles target the features of the CPU it runs on.
    static let environment: Environment? = {
        guard hs_valid_platform() == HS_SUCCESS else { return nil }
        var platform = hs_platform_info_t()
        guard hs_populate_platform(&platform) == HS_SUCCESS, let version = hs_version() else { return nil }
        var probe: OpaquePointer?
        var error: UnsafeMutablePointer<hs_compile_error_t>?
        guard hs_compile("kordon", UInt32(HS_FLAG_DOTALL), mode, nil, &probe, &error) == HS_SUCCESS, let probe else {
            if let error { hs_free_compile_error(error) }
            return nil
        }
        defer { hs_free_database(probe) }
        guard let info = info(of: probe) else { return nil }
        var fingerprint: [UInt8] = []
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { fingerprint += $0 } }
        func append(_ text: String) {
            append(UInt64(text.utf8.count))
            fingerprint += text.utf8
        }
        append(String(cString: version))
        append(UInt32(platform.tune))
        append(UInt64(platform.cpu_features))
        append(UInt64(platform.reserved1))
        append(UInt64(platform.reserved2))
        append(mode)
        append(info)
        return Environment(fingerprint: fingerprint, info: info)
    }()

    deinit {
        for scratch in pool.withLock({ $0 }) { hs_free_scratch(scratch.pointer) }
        hs_free_scratch(prototype)
        hs_free_database(database)
    }

    /// Scans `text[range]` between two guard bytes — the bytes just outside the range,
    /// or a space where the text ends — calling `onMatch(id, start, end)` for every
    /// match in order of end offset. Offsets are offsets into `text`; a match may
    /// begin at `range.lowerBound - 1` and end at `range.upperBound + 1` (the guards).
    /// `start` is meaningful only for expressions compiled with `reportsStart`.
    /// `onMatch` returns `false` to stop early. Returns `false` when Hyperscan itself
    /// failed (the caller fails closed).
    func scan(_ text: [UInt8], in range: Range<Int>, onMatch: (UInt32, Int, Int) -> Bool) -> Bool {
        guard !range.isEmpty else { return true }
        guard range.count < Int(UInt32.max) else { return false }
        guard let scratch = takeScratch() else { return false }
        defer { giveBack(scratch) }
        let space = UInt8(ascii: " ")
        var guards = (range.lowerBound > 0 ? text[range.lowerBound - 1] : space,
                      range.upperBound < text.count ? text[range.upperBound] : space)
        // Vector offsets count the leading guard: text offset = vector offset - 1 + lower bound.
        let shift = range.lowerBound - 1
        return withoutActuallyEscaping(onMatch) { handler in
            let box = HandlerBox(handler, shift: shift)
            let context = Unmanaged.passUnretained(box).toOpaque()
            let status = withUnsafeMutableBytes(of: &guards) { guardBytes in
                text.withUnsafeBufferPointer { bytes -> hs_error_t in
                    let base = UnsafeRawPointer(bytes.baseAddress!)
                    var pieces: [UnsafePointer<CChar>?] = [
                        UnsafeRawPointer(guardBytes.baseAddress!).assumingMemoryBound(to: CChar.self),
                        (base + range.lowerBound).assumingMemoryBound(to: CChar.self),
                        UnsafeRawPointer(guardBytes.baseAddress! + 1).assumingMemoryBound(to: CChar.self),
                    ]
                    var lengths: [UInt32] = [1, UInt32(range.count), 1]
                    return hs_scan_vector(database, &pieces, &lengths, 3, 0, scratch, { id, from, to, _, context in
                        let box = Unmanaged<HandlerBox>.fromOpaque(context!).takeUnretainedValue()
                        return box.handler(id, Int(from) + box.shift, Int(to) + box.shift) ? 0 : 1
                    }, context)
                }
            }
            return withExtendedLifetime(box) { status == HS_SUCCESS || status == HS_SCAN_TERMINATED }
        }
    }

    private func takeScratch() -> OpaquePointer? {
        if let scratch = pool.withLock({ $0.popLast() }) { return scratch.pointer }
        var clone: OpaquePointer?
        guard hs_clone_scratch(prototype, &clone) == HS_SUCCESS else { return nil }
        return clone
    }

    private func giveBack(_ scratch: OpaquePointer) {
        let kept = pool.withLock { pool in
            guard pool.count < poolLimit else { return false }
            pool.append(Scratch(pointer: scratch))
            return true
        }
        if !kept { hs_free_scratch(scratch) }
    }
}

/// A scratch space waiting in the pool. `@unchecked Sendable`: the pool hands each
/// one to a single scan at a time, which is all Hyperscan asks of scratch space.
private struct Scratch: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// Carries the Swift match handler through Hyperscan's `void *context`.
private final class HandlerBox {
    let handler: (UInt32, Int, Int) -> Bool
    let shift: Int
    init(_ handler: @escaping (UInt32, Int, Int) -> Bool, shift: Int) {
        self.handler = handler
        self.shift = shift
    }
}
