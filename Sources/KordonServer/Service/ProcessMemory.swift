import Foundation

/// This process's memory, from `/proc/self/status`: what a reload costs is
/// reported from it (a ClamAV engine with the official database takes about
/// 1.2 GB; a concurrent reload holds two for a moment).
enum ProcessMemory {
    /// Resident set size now, in bytes (`VmRSS`); 0 where `/proc` is missing.
    static var resident: Int { field("VmRSS") }
    /// The highest resident set size so far, in bytes (`VmHWM`).
    static var peak: Int { field("VmHWM") }

    private static func field(_ name: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            let digits = line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ").first
            return (digits.flatMap { Int($0) } ?? 0) * 1024
        }
        return 0
    }

    /// `123 MB`.
    static func megabytes(_ bytes: Int) -> String { "\(bytes / 1_048_576) MB" }
}
