extension Duration {
    /// The duration in seconds, for APIs that take a `TimeInterval` or print seconds.
    public var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
