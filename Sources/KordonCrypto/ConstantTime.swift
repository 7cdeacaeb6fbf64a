/// Comparisons of secrets (MACs, tokens) that take the same time wherever the inputs
/// first differ, so that timing an answer tells an attacker nothing about the secret.
public enum ConstantTime {
    /// Whether `a` and `b` hold the same bytes. Every byte of the longer one is looked
    /// at: the time depends on the lengths only.
    public static func equal(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        let x = Array(a), y = Array(b)
        var difference = UInt(bitPattern: x.count ^ y.count)
        for index in 0..<max(x.count, y.count) {
            difference |= UInt((index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0))
        }
        return difference == 0
    }

    /// Whether `a` and `b` have the same UTF-8 bytes.
    public static func equal(_ a: String, _ b: String) -> Bool {
        equal(a.utf8, b.utf8)
    }
}
