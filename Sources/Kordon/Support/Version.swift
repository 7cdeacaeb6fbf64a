/// Kordon's own version, reported in every report's `engine.kordon`.
public enum KordonVersion {
    /// The release this source tree builds.
    public static let current = "0.1.0"
}
