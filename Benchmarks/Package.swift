// swift-tools-version:6.0
//
// Kordon's benchmarks, a package of their own (swift-nio's layout): the root package,
// which CI builds and tests, never builds them; this one depends on it by path.
//
//   swift run -c release --package-path Benchmarks KordonBench detection
//
// The Python scripts beside this file drive `kordon` (the root package's release build)
// and this package's `KordonBench`.
import PackageDescription

let package = Package(
    name: "KordonBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "Kordon", path: ".."),
    ],
    targets: [
        // Rule-pack detection, the ICAP load generator, the audit log's append path.
        .executableTarget(name: "KordonBench", dependencies: [
            .product(name: "KordonCore", package: "Kordon"),
            .product(name: "KordonRules", package: "Kordon"),
            .product(name: "KordonStore", package: "Kordon"),
        ], path: "KordonBench"),
    ],
    swiftLanguageModes: [.v6]
)
