// KordonBench: Kordon's benchmark tool. The first argument picks the mode.
//
//   swift run -c release --package-path Benchmarks KordonBench detection [--mb N] [--numeric] [--rules DIR] [--passes P] [--cache DIR]
//   swift run -c release --package-path Benchmarks KordonBench icap-load --port P --service NAME [--host H] [--connections N]
//                                              [--seconds S] [--warmup W] [--unique] [--rate R] FILE|DIR...
//   swift run -c release --package-path Benchmarks KordonBench audit [--seconds S] [--appenders N] [--dir DIR]
//
// detection: throughput of the restricted-data rules (DetectionBenchmark.swift).
// Builds N MB (default 100) of customs-flavoured plain text in memory — Russian,
// Kazakh and English sentences, half of them carrying dates, amounts, phone
// numbers, HS codes or declaration numbers (all of them with --numeric), with a
// valid identifier every few hundred sentences and a classification marking every
// few MB — loads every pack of `rules/`, and times single-threaded `RuleSet.scan`
// over 64 KB chunks. Prints MB/s (best pass) per second of thread CPU time (the
// honest figure on a shared machine) and of wall time. The planted count and the
// match count should be equal: anything else is a miss or a false positive.
// With --cache DIR the compiled Hyperscan databases are kept in (and, on the next
// run, read from) DIR, as `kordon filter` can; the load line then says how many
// were read and how many compiled, and the CPU time the load took.
//
// Reference (Debian 12, x86-64 with AVX-512, Hyperscan 5.4.0, release build, 100 MB,
// all six packs): customs prose (9 % digits) ≈ 745 MB/s; --numeric (19 % digits)
// ≈ 530 MB/s. Loading the six packs: ≈ 1.2 s of CPU (compiling); with a warm
// --cache ≈ 0.065 s (the four databases read back).
//
// icap-load: an ICAP RESPMOD load generator (ICAPLoad.swift), compiled so that the
// client's own cost stays small beside the servers it measures: blocking sockets on
// N threads, TCP_NODELAY, persistent connections, the whole request in one write,
// every answer read in full. Prints one JSON line. See ICAPLoadOptions.swift.
//
// audit: records per second and CPU per record of the audit log's append path,
// N threads appending at once (AuditBench.swift).
//
// (Only .swift files belong in this folder: anything else would be an unhandled
// resource of the executable target.)
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "detection":
    try DetectionBenchmark.run(DetectionOptions(arguments))
case "icap-load":
    ICAPLoad.run(ICAPLoadOptions(arguments))
case "audit":
    try AuditBench.run(Array(arguments.dropFirst()))
default:
    FileHandle.standardError.write(Data("usage: KordonBench detection ... | icap-load ... | audit ... (see main.swift)\n".utf8))
    exit(2)
}
