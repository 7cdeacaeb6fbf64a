import CLibXML2
import Foundation

/// One `xs:pattern` value compiled by libxml2's own regular-expression engine, the one
/// its schema validator uses: XSD regex syntax and semantics exactly (`\d`, `\p{IsCyrillic}`,
/// character-class subtraction, implicit anchoring at both ends).
///
/// `@unchecked Sendable`: the compiled automaton is never modified after
/// `xmlRegexpCompile` returns, and `xmlRegexpExec` builds its own execution state per call.
final class XSDPattern: @unchecked Sendable {
    private let handle: xmlRegexpPtr

    /// Compiles `expression`; `nil` when libxml2 refuses it (then nothing can be said of a value).
    init?(_ expression: String) {
        XMLRuntime.initialize()
        let compiled: xmlRegexpPtr? = withSilencedGlobalErrors {
            let saved = kordon_xml_silence_generic_errors()
            defer { kordon_xml_restore_generic_errors(saved) }
            return xmlRegexpCompile(expression)
        }
        guard let compiled else { return nil }
        handle = compiled
    }

    deinit {
        xmlRegFreeRegexp(handle)
    }

    /// Whether the whole of UTF-8 `value` matches; `nil` when libxml2 fails to run the automaton.
    func matches(_ value: [UInt8]) -> Bool? {
        var terminated = value
        terminated.append(0)
        let status = terminated.withUnsafeBufferPointer { xmlRegexpExec(handle, $0.baseAddress) }
        switch status {
        case 1: return true
        case 0: return false
        default: return nil
        }
    }
}

/// Compiled patterns shared by every thread, one per distinct expression: an album
/// repeats the same few (`\d{12}`, `[0-9A-Z]{1,36}`) across hundreds of types.
final class XSDPatternCache: @unchecked Sendable {
    // @unchecked Sendable: the dictionary is only touched under `lock`.
    private let lock = NSLock()
    private var compiled: [String: XSDPattern?] = [:]

    /// The process-wide cache.
    static let shared = XSDPatternCache()

    /// The compiled form of `expression`, or `nil` when libxml2 cannot compile it.
    func pattern(_ expression: String) -> XSDPattern? {
        lock.lock()
        defer { lock.unlock() }
        if let known = compiled[expression] { return known }
        let pattern = XSDPattern(expression)
        compiled[expression] = pattern
        return pattern
    }
}
