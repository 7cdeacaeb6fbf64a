import CClamAV
import KordonCore

/// libclamav's process-wide state: `cl_init` must run exactly once, before
/// the first engine is created.
enum ClamRuntime {
    /// The outcome of the one `cl_init` call. A Swift `static let` is
    /// initialised lazily, exactly once, under a lock (`swift_once`), so
    /// engines loaded from several threads at once still initialise once.
    private static let initialization: Result<Void, KordonError> = {
        let status = cl_init(UInt32(CL_INIT_DEFAULT))
        guard status == CL_SUCCESS else {
            return .failure(KordonError(
                code: "clamav.init",
                message: "libclamav failed to initialise: \(ClamStatus(status).message); "
                    + "check the libclamav installation"))
        }
        return .success(())
    }()

    /// Initialises libclamav on first use; later calls return the first outcome.
    static func initialize() throws {
        try initialization.get()
    }

    /// libclamav's version string, e.g. `1.4.6`. Safe before `cl_init`.
    static var version: String {
        guard let text = cl_retver() else { return "unknown" }
        return String(cString: text)
    }
}
