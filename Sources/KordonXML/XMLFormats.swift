import Foundation

/// How documents of the agreed formats are read beyond what their schemas say: which
/// wrappers carry whole documents (containers, validated inside), and which elements
/// carry attachments although their schema types them as strings.
///
/// Configured under `schemas:` in the configuration file; the defaults cover the FTS
/// album of formats and the EEC's envelopes.
public struct XMLFormats: Sendable, Equatable {
    /// The elements whose child elements are whole documents, each validated against its
    /// own namespace's schema (`schemas.containers`); ``ContainerSlot/defaults`` unless configured.
    public var containers: [ContainerSlot] = ContainerSlot.defaults
    /// The elements that carry attachments whatever their schema type (`schemas.payloads`
    /// adds to them): decoded and scanned at any length; ``PayloadElements/defaults``.
    public var payloadElements: PayloadElements = .defaults
    /// The defaults for the FTS and EEC families.
    public init() {}
}
