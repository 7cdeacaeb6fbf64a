import CClamAV
import Foundation
import KordonCompression
import KordonCore

/// One compiled libclamav engine, shared by every scanning thread.
///
/// `@unchecked Sendable`: libclamav documents a compiled engine as safe for
/// concurrent scans from any number of threads (clamd scans with one engine
/// from its whole thread pool). After ``load(_:)`` returns, nothing changes the
/// engine's settings; per-scan state lives in each scan's own context.
///
/// This type owns the `cl_engine` handle and every `cl_fmap` it scans through;
/// neither leaves this file.
public final class ClamEngine: @unchecked Sendable {
    private let engine: OpaquePointer
    private let limits: Limits

    /// Signatures loaded.
    public let signatureCount: Int
    /// The databases loaded, in order, with their signature counts.
    public let databases: [ClamDatabase]
    /// The version of the official database (`daily` CVD) loaded, or `nil`
    /// when only unofficial databases (such as Kordon's test signatures) are.
    public let databaseVersion: Int?
    /// When the official database loaded was built, or `nil` as above.
    public let databaseTime: Date?

    /// libclamav's version, e.g. `1.4.6`.
    public static var libraryVersion: String { ClamRuntime.version }

    private init(engine: OpaquePointer, limits: Limits, databases: [ClamDatabase]) {
        self.engine = engine
        self.limits = limits
        self.databases = databases
        self.signatureCount = databases.reduce(0) { $0 + $1.signatureCount }
        let version = cl_engine_get_num(engine, CL_ENGINE_DB_VERSION, nil)
        let time = cl_engine_get_num(engine, CL_ENGINE_DB_TIME, nil)
        self.databaseVersion = version > 0 ? Int(version) : nil
        self.databaseTime = time > 0 ? Date(timeIntervalSince1970: TimeInterval(time)) : nil
    }

    /// The pipeline frees an engine only once no scan holds it: a reload
    /// builds a new engine and swaps, and every scan keeps a strong reference.
    deinit {
        cl_engine_free(engine)
    }

    /// Loads and compiles an engine. Throws a ``KordonError`` naming the database that failed.
    public static func load(_ options: ClamEngineOptions) throws -> ClamEngine {
        try ClamRuntime.initialize()
        guard !options.databases.isEmpty else {
            throw KordonError(code: "clamav.database.none",
                              message: "no ClamAV database configured; add a signatures directory")
        }
        guard let handle = cl_engine_new() else {
            throw KordonError(code: "clamav.engine", message: "libclamav could not create an engine (out of memory?)")
        }
        // From here on the handle is freed on every failure path.
        do {
            try apply(options.limits, to: handle)
            if let directory = options.temporaryDirectory { try useTemporaryDirectory(directory, in: handle) }
            // No clean-file cache: a part libclamav cached as clean is not unpacked again, so
            // Kordon's own looks inside it (zip structure, undecoded streams) would be skipped.
            try check(cl_engine_set_num(handle, CL_ENGINE_DISABLE_CACHE, 1), code: "clamav.cache",
                      message: "libclamav would not turn its clean-file cache off")
            cl_engine_set_clcb_virus_found(handle, ClamMatchCollector.virusFound)
            cl_engine_set_clcb_file_inspection(handle, ClamMatchCollector.fileInspection)
            var loaded: [ClamDatabase] = []
            for url in options.databases {
                loaded.append(try loadDatabase(url, into: handle))
            }
            guard loaded.contains(where: { $0.signatureCount > 0 }) else {
                let paths = options.databases.map(\.path).joined(separator: ", ")
                throw KordonError(code: "clamav.database.empty",
                                  message: "no ClamAV signatures found in \(paths); an engine with no "
                                      + "signatures would call everything clean. Point it at a database directory")
            }
            try check(cl_engine_compile(handle), code: "clamav.compile",
                      message: "libclamav could not compile the loaded signatures")
            return ClamEngine(engine: handle, limits: options.limits, databases: loaded)
        } catch {
            cl_engine_free(handle)
            throw error
        }
    }

    /// Scans one decoded part; every match, heuristic and error becomes a finding at `part`.
    ///
    /// - Parameters:
    ///   - data: the whole decoded content of the part.
    ///   - part: where it sits in the message; every finding carries it.
    ///   - filename: a name hint for libclamav's type detection, if known.
    /// - Returns: no findings when libclamav fully scanned the bytes and found
    ///   nothing; otherwise `virus` and `unchecked` findings, all `quarantine`.
    public func scan(_ data: Data, part: PartPath, filename: String? = nil) -> [Finding] {
        scan(data, part: part, filename: filename, collectingText: nil).findings
    }

    /// Scans one decoded part, collecting up to `textBudget` bytes of the text files
    /// libclamav unpacks when `textBudget` is set (see ``scanCollectingText(_:part:filename:)``).
    /// `depth` counts the compressed streams this part was decoded from (see ``UndecodedStream``).
    func scan(_ data: Data, part: PartPath, filename: String?, collectingText textBudget: Int?,
              depth: Int = 0) -> ClamScanResult {
        // Zero bytes hold nothing to scan, and libclamav refuses an empty map.
        guard !data.isEmpty else { return ClamScanResult(findings: [], unpackedTexts: []) }
        let textCollector = textBudget.map { UnpackedTextCollector(part: part, budget: $0) }
        let collector = ClamMatchCollector(maxFileSize: limits.clamMaxFileSize, textCollector: textCollector)
        var options = ClamScanOptions.make(collectingText: textCollector != nil)
        var virname: UnsafePointer<CChar>? = nil
        var scanned: UInt = 0
        let status: cl_error_t? = data.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress, let map = cl_fmap_open_memory(base, buffer.count) else {
                return nil
            }
            defer { cl_fmap_close(map) }
            let context = Unmanaged.passUnretained(collector).toOpaque()
            return withExtendedLifetime(collector) {
                cl_scanmap_callback(map, filename, &virname, &scanned, engine, &options, context)
            }
        }
        collector.finish()
        guard let status else {
            return ClamScanResult(findings: [Finding(stage: .unchecked, rule: "clamav.map", part: part, action: .quarantine,
                                                     detail: "ClamAV could not map this part into memory for scanning")],
                                  unpackedTexts: [])
        }
        // In all-match mode every name goes through the callback; the returned
        // name is a safety net should a libclamav path bypass it.
        if status == CL_VIRUS, let virname {
            collector.record(String(cString: virname))
        }
        var findings = ClamFindingMapper.findings(names: collector.names, status: ClamStatus(status), part: part)
        if status == CL_VIRUS && findings.isEmpty {
            findings.append(Finding(stage: .virus, rule: "clamav.unnamed", part: part, action: .quarantine,
                                    detail: "ClamAV reported a match without a signature name"))
        }
        var result = ClamScanResult(findings: findings, unpackedTexts: textCollector?.texts ?? [])
        scanDecoded(collector.undecodedStreams, of: part, textBudget: textBudget, depth: depth, into: &result)
        return result
    }

    /// Decodes the compressed streams libclamav scanned as plain bytes and scans what each
    /// holds, as `decoded:FORMAT` (numbered when there are several) below `part`. A stream
    /// that would decode past MaxFileSize, or that starts validly and is cut short, is
    /// `unchecked`; bytes that only looked like a stream are left as libclamav scanned them.
    private func scanDecoded(_ streams: [UndecodedStream], of part: PartPath, textBudget: Int?, depth: Int,
                             into result: inout ClamScanResult) {
        for (index, stream) in streams.enumerated() {
            let name = stream.label ?? "decoded:\(stream.format.rawValue)"
            let path = part.appending(streams.count == 1 ? name : "\(name)[\(index + 1)]")
            let unchecked = { (rule: String, why: String) in
                Finding(stage: .unchecked, rule: rule, part: path, action: .quarantine,
                        detail: "a \(stream.format.rawValue) stream \(why); what it holds was not scanned")
            }
            guard depth < UndecodedStream.maxDepth else {
                result.findings.append(unchecked(UndecodedStream.depthRule, "is nested in more than \(UndecodedStream.maxDepth) others"))
                continue
            }
            let decoding = stream.decoded.map { DecodeResult.decoded($0) }
                ?? Decompressor.decode(stream.bytes, as: stream.format, limit: limits.clamMaxFileSize, trailing: .ignore)
            switch decoding {
            case .decoded(let decoded):
                let inner = scan(decoded, part: path, filename: nil, collectingText: textBudget, depth: depth + 1)
                result.findings += inner.findings
                result.unpackedTexts += inner.unpackedTexts
            case .overLimit:
                result.findings.append(unchecked(UndecodedStream.overLimitRule, "decodes to more than MaxFileSize (\(limits.clamMaxFileSize) bytes)"))
            case .truncated where stream.cutShortMeansStream:
                result.findings.append(unchecked(UndecodedStream.truncatedRule, "is cut short"))
            case .corrupt where stream.mustDecode:
                result.findings.append(unchecked(UndecodedStream.corruptRule, "could not be opened by ClamAV nor decoded by Kordon"))
            case .truncated, .corrupt:
                continue
            }
        }
    }

    // MARK: - Loading

    private static func loadDatabase(_ url: URL, into handle: OpaquePointer) throws -> ClamDatabase {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw KordonError(code: "clamav.database.missing",
                              message: "ClamAV database \(path) does not exist; fix the path or run freshclam")
        }
        var signatures: UInt32 = 0
        let status = cl_load(path, handle, &signatures, ClamScanOptions.databaseOptions)
        guard status == CL_SUCCESS else {
            throw KordonError(code: "clamav.database.load",
                              message: "ClamAV could not load \(path): \(ClamStatus(status).message)")
        }
        return ClamDatabase(url: url, signatureCount: Int(signatures))
    }

    /// Sets libclamav's limits from Kordon's. Every limit must be positive:
    /// libclamav reads 0 as "no limit", and an unlimited scan is the
    /// opposite of what the limits are for.
    private static func apply(_ limits: Limits, to handle: OpaquePointer) throws {
        let settings: [(field: cl_engine_field, name: String, value: Int, max: Int64)] = [
            (CL_ENGINE_MAX_SCANSIZE, "clamMaxScanSize", limits.clamMaxScanSize, Int64.max),
            (CL_ENGINE_MAX_FILESIZE, "clamMaxFileSize", limits.clamMaxFileSize, Int64.max),
            (CL_ENGINE_MAX_RECURSION, "clamMaxRecursion", limits.clamMaxRecursion, Int64(UInt32.max)),
            (CL_ENGINE_MAX_FILES, "clamMaxFiles", limits.clamMaxFiles, Int64(UInt32.max)),
            (CL_ENGINE_MAX_SCANTIME, "clamMaxScanTimeMilliseconds", limits.clamMaxScanTimeMilliseconds,
             Int64(UInt32.max)),
        ]
        for setting in settings {
            guard setting.value > 0, Int64(setting.value) <= setting.max else {
                throw KordonError(code: "clamav.limits",
                                  message: "limit \(setting.name) must be between 1 and \(setting.max), "
                                      + "got \(setting.value)")
            }
            try check(cl_engine_set_num(handle, setting.field, Int64(setting.value)), code: "clamav.limits",
                      message: "libclamav rejected limit \(setting.name)=\(setting.value)")
        }
    }

    /// Points libclamav's scratch at `directory`, which must be a directory Kordon can
    /// write: a scan whose scratch cannot be made fails, so a wrong path is refused at load.
    private static func useTemporaryDirectory(_ directory: String, in handle: OpaquePointer) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue,
              access(directory, W_OK | X_OK) == 0 else {
            throw KordonError(code: "clamav.tmpdir",
                              message: "scan.temporaryDirectory \(directory) is not a directory Kordon can write; create it or fix the path")
        }
        try check(cl_engine_set_str(handle, CL_ENGINE_TMPDIR, directory), code: "clamav.tmpdir",
                  message: "libclamav rejected scan.temporaryDirectory \(directory)")
    }

    private static func check(_ status: cl_error_t, code: KordonError.Code, message: String) throws {
        guard status == CL_SUCCESS else {
            throw KordonError(code: code, message: "\(message): \(ClamStatus(status).message)")
        }
    }
}
