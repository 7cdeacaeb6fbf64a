import CClamAV

/// A libclamav return code with the names Kordon reports it under.
struct ClamStatus: Equatable {
    /// The raw code.
    let code: cl_error_t

    init(_ code: cl_error_t) {
        self.code = code
    }

    /// libclamav's own description (`cl_strerror`).
    var message: String {
        guard let text = cl_strerror(code) else { return "unknown libclamav error \(code.rawValue)" }
        return String(cString: text)
    }

    /// A short, stable name for rules and error codes: `timeout`, `memory`,
    /// `format`. Unknown codes keep their number so that nothing is hidden.
    var shortName: String {
        Self.shortNames[code.rawValue] ?? "error\(code.rawValue)"
    }

    private static let shortNames: [UInt32: String] = [
        CL_CLEAN.rawValue: "clean",
        CL_VIRUS.rawValue: "virus",
        CL_ENULLARG.rawValue: "nullarg",
        CL_EARG.rawValue: "arg",
        CL_EMALFDB.rawValue: "malformed-database",
        CL_ECVD.rawValue: "cvd",
        CL_EVERIFY.rawValue: "verify",
        CL_EUNPACK.rawValue: "unpack",
        CL_EOPEN.rawValue: "open",
        CL_ECREAT.rawValue: "create",
        CL_EUNLINK.rawValue: "unlink",
        CL_ESTAT.rawValue: "stat",
        CL_EREAD.rawValue: "read",
        CL_ESEEK.rawValue: "seek",
        CL_EWRITE.rawValue: "write",
        CL_EDUP.rawValue: "dup",
        CL_EACCES.rawValue: "access",
        CL_ETMPFILE.rawValue: "tmpfile",
        CL_ETMPDIR.rawValue: "tmpdir",
        CL_EMAP.rawValue: "map",
        CL_EMEM.rawValue: "memory",
        CL_ETIMEOUT.rawValue: "timeout",
        CL_BREAK.rawValue: "break",
        CL_EMAXREC.rawValue: "max-recursion",
        CL_EMAXSIZE.rawValue: "max-size",
        CL_EMAXFILES.rawValue: "max-files",
        CL_EFORMAT.rawValue: "format",
        CL_EPARSE.rawValue: "parse",
        CL_EBYTECODE.rawValue: "bytecode",
        CL_EBYTECODE_TESTFAIL.rawValue: "bytecode-testfail",
        CL_ELOCK.rawValue: "lock",
        CL_EBUSY.rawValue: "busy",
        CL_ESTATE.rawValue: "state",
        CL_VERIFIED.rawValue: "verified",
        CL_ERROR.rawValue: "error",
    ]
}
