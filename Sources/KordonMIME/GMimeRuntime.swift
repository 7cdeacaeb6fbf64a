import CGMime

/// Process-wide GMime initialization.
///
/// `g_mime_init()` sets up GMime's type system, charset tables and iconv cache.
/// It must run exactly once per process before any other GMime call; after it,
/// GMime may be used from several threads as long as each thread works on its
/// own objects (which is how ``MIMEMessageParser`` uses it: every parse creates
/// and frees its own parser, streams and message). `g_mime_shutdown()` is never
/// called: the library stays loaded until the process ends.
enum GMimeRuntime {
    /// A Swift global/static `let` is initialized lazily under `swift_once`,
    /// so concurrent first callers block until the single initialization is done.
    private static let initialized: Bool = {
        g_mime_init()
        return true
    }()

    /// Makes sure GMime has been initialized; cheap after the first call.
    static func ensureInitialized() {
        _ = initialized
    }
}
