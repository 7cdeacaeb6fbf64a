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
    init(patterns: [HyperscanPattern]) throws(HyperscanError) {
        guard hs_valid_platform() == HS_SUCCESS else {
            throw HyperscanError(patternIndex: nil, message: "this CPU lacks the SSSE3 instructions Hyperscan needs")
        }
        guard !patterns.isEmpty else {
            throw HyperscanError(patternIndex: nil, message: "no patterns to compile")
        }
        let expressions = patterns.map { strdup($0.expression) }
        defer { expressions.forEach { free($0) } }
        let flags = patterns.map { pattern -> UInt32 in
            var flags = UInt32(HS_FLAG_DOTALL)
            if pattern.reportsStart { flags |= UInt32(HS_FLAG_SOM_LEFTMOST) }
            if pattern.singleMatch { flags |= UInt32(HS_FLAG_SINGLEMATCH) }
            return flags
        }
        let ids = patterns.map(\.id)
        var database: OpaquePointer?
        var error: UnsafeMutablePointer<hs_compile_error_t>?
        let status = expressions.map { UnsafePointer($0) }.withUnsafeBufferPointer { expressionBuffer in
            hs_compile_multi(expressionBuffer.baseAddress, flags, ids, UInt32(patterns.count),
                             UInt32(HS_MODE_VECTORED), nil, &database, &error)
        }
        guard status == HS_SUCCESS, let database else {
            let index = error.map { Int($0.pointee.expression) }.flatMap { $0 >= 0 ? $0 : nil }
            let message = error.flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "error \(status)"
            if let error { hs_free_compile_error(error) }
            throw HyperscanError(patternIndex: index, message: message)
        }
        var scratch: OpaquePointer?
        let scratchStatus = hs_alloc_scratch(database, &scratch)
        guard scratchStatus == HS_SUCCESS, let scratch else {
            hs_free_database(database)
            throw HyperscanError(patternIndex: nil, message: "cannot allocate scratch space (error \(scratchStatus))")
        }
        self.database = database
        self.prototype = scratch
    }

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
