import KordonCore

extension KordonError.Code {
    /// AES-GCM refused a ciphertext: the key is wrong or the bytes were changed.
    public static let aeadRejected: Self = "crypto.aead.rejected"
}
