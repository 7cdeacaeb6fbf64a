// swift-tools-version:6.0
//
// Kordon: an antivirus and content-sanitization filter for customs message exchange.
//
// Layout: each C library is a `.systemLibrary` target (module map + shim header);
// each pipeline stage is its own Swift module so that exactly one module imports
// each C library and no C handle crosses a module boundary.
import PackageDescription

let package = Package(
    name: "Kordon",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "kordon", targets: ["kordon"]),
        .library(name: "Kordon", targets: ["Kordon"]),
        // For the benchmarks package (Benchmarks/Package.swift), which measures these directly.
        .library(name: "KordonCore", targets: ["KordonCore"]),
        .library(name: "KordonRules", targets: ["KordonRules"]),
        .library(name: "KordonStore", targets: ["KordonStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // The gateway service (kordon serve).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // C libraries from Debian, shims only.
        .systemLibrary(name: "CClamAV", pkgConfig: "libclamav", providers: [.apt(["libclamav-dev"])]),
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "CGMime", pkgConfig: "gmime-3.0", providers: [.apt(["libgmime-3.0-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CHyperscan", pkgConfig: "libhs", providers: [.apt(["libhyperscan-dev"])]),
        // Decompressors (HTTP Content-Encoding, archive members, streams inside documents).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CBrotli", pkgConfig: "libbrotlidec", providers: [.apt(["libbrotli-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLZMA", pkgConfig: "liblzma", providers: [.apt(["liblzma-dev"])]),
        // Debian 12's libbz2-dev has no .pc file: the module map links bz2 itself.
        .systemLibrary(name: "CBzip2", providers: [.apt(["libbz2-dev"])]),

        // The vocabulary every stage shares: parts, findings, verdicts, reports.
        .target(name: "KordonCore"),
        // Digests, HMAC (and later AEAD) through OpenSSL's libcrypto.
        .target(name: "KordonCrypto", dependencies: ["KordonCore", "COpenSSL"]),
        // Bounded decoding of zlib/deflate/gzip, brotli, zstd, xz/.lzma and bzip2 streams.
        .target(name: "KordonCompression", dependencies: ["CZlib", "CBrotli", "CZstd", "CLZMA", "CBzip2"]),
        // Stages, one C library each.
        .target(name: "KordonScanning", dependencies: ["KordonCore", "KordonCompression", "CClamAV"]),
        .target(name: "KordonXML", dependencies: ["KordonCore", "KordonCrypto", "CLibXML2"]),
        .target(name: "KordonMIME", dependencies: ["KordonCore", "KordonCompression", "CGMime"]),
        // Restricted data: national rule packs, validators, Hyperscan matching.
        .target(name: "KordonRules", dependencies: [
            "KordonCore", "KordonCrypto", "CHyperscan",
            .product(name: "Yams", package: "Yams"),
        ]),
        // The pipeline: intake, stages in order, verdict, report, configuration.
        .target(name: "Kordon", dependencies: [
            "KordonCore", "KordonCrypto", "KordonScanning", "KordonXML", "KordonMIME", "KordonRules",
            .product(name: "Yams", package: "Yams"),
        ]),
        // Quarantine store (AES-256-GCM blobs, SQLite index) and the HMAC-chained audit log.
        .target(name: "KordonStore", dependencies: [
            "KordonCore", "KordonCrypto",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // kordon serve: the scanning service, spool, ICAP and HTTP transports.
        .target(name: "KordonServer", dependencies: [
            "Kordon", "KordonCore", "KordonCrypto", "KordonCompression", "KordonStore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
        ]),
        // The command-line tool.
        .executableTarget(name: "kordon", dependencies: [
            "Kordon", "KordonCore", "KordonCrypto", "KordonRules", "KordonStore", "KordonServer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]),

        .testTarget(name: "KordonCoreTests", dependencies: ["KordonCore"]),
        .testTarget(name: "KordonCryptoTests", dependencies: ["KordonCrypto", "KordonCore"]),
        .testTarget(name: "KordonCompressionTests", dependencies: ["KordonCompression"]),
        .testTarget(name: "KordonRulesTests", dependencies: ["KordonRules", "KordonCore", "KordonCrypto"]),
        .testTarget(name: "KordonScanningTests", dependencies: ["KordonScanning", "KordonCore", "CClamAV"]),
        .testTarget(name: "KordonXMLTests", dependencies: ["KordonXML", "KordonCore"]),
        .testTarget(name: "KordonMIMETests", dependencies: ["KordonMIME", "KordonCore"]),
        .target(name: "KordonTestSupport", path: "Tests/KordonTestSupport"),
        // `kordon` (the executable) is built for the tests that run the binary.
        .testTarget(name: "KordonTests", dependencies: [
            "Kordon", "kordon", "KordonCore", "KordonCrypto", "KordonRules", "KordonStore", "KordonXML", "KordonTestSupport",
        ]),
        .testTarget(name: "KordonStoreTests", dependencies: ["KordonStore", "KordonCore", "KordonCrypto"]),
        .testTarget(name: "KordonServerTests", dependencies: [
            "KordonServer", "Kordon", "KordonCore", "KordonCrypto", "KordonStore", "kordon", "KordonTestSupport",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
