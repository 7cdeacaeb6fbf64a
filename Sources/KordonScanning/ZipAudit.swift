import Foundation

/// Reads a zip's structure the way a receiver's unzip does and says where libclamav
/// would read it differently, or not at all.
///
/// libclamav 1.4 says CLEAN for a zip it could not open: a member compressed with a
/// method it does not unpack (LZMA, XZ, Zstandard, PPMd: it skips them), a local header
/// whose sizes or method disagree with the central directory (libclamav trusts the local
/// header, Python's `zipfile` and Info-ZIP the central directory), or a second zip
/// concatenated to the first (libclamav reads the first; `zipfile` finds the last).
/// Each of these is a container Kordon cannot vouch for: the ClamAV stage reports it as
/// `unchecked`. Pure Swift over the bytes libclamav hands its file-inspection callback.
struct ZipAudit {
    /// What makes a zip one that libclamav may not have fully read.
    enum Problem: Hashable, Sendable {
        /// A member whose compression method libclamav does not unpack.
        case unsupportedMethod(UInt16)
        /// A local header that disagrees with its central-directory entry (method, sizes,
        /// CRC), or a central-directory entry that points at no local header.
        case inconsistentHeaders
        /// A local header the central directory does not list (a zip concatenated to
        /// another, or members hidden before the archive the directory describes).
        case unlistedMember
        /// More than one end-of-central-directory record outside member data.
        case severalDirectories
        /// A local header that leaves its sizes to a zip64 extra field (`0xFFFFFFFF`):
        /// libclamav 1.4 takes them as 4 GB, finds the member "out of file" and skips it.
        case zip64LocalSizes
        /// Local headers but no end-of-central-directory record: a zip cut short. Streaming
        /// readers (and Python's `zlib.decompressobj` on a member) still recover the start of
        /// its members; libclamav recovers nothing of a member whose stream breaks off.
        case noCentralDirectory

        /// The rule name reported for the problem (mapped to `unchecked`).
        var rule: String {
            switch self {
            case .unsupportedMethod(let method): "Kordon.Archive.Zip.UnsupportedMethod.\(method)"
            case .inconsistentHeaders: "Kordon.Archive.Zip.InconsistentHeaders"
            case .unlistedMember: "Kordon.Archive.Zip.UnlistedMember"
            case .severalDirectories: "Kordon.Archive.Zip.SeveralDirectories"
            case .zip64LocalSizes: "Kordon.Archive.Zip.Zip64LocalSizes"
            case .noCentralDirectory: "Kordon.Archive.Zip.NoCentralDirectory"
            }
        }
    }

    /// The compression methods libclamav 1.4's unzip unpacks: stored, implode, deflate,
    /// deflate64, bzip2 (`unz` in libclamav/unzip.c). Every other method is skipped as
    /// "unsupported" and the zip scanned as clean.
    static let unpackedMethods: Set<UInt16> = [0, 6, 8, 9, 12]
    /// Most central-directory entries examined; past it the zip is not vouched for.
    static let maxEntries = 65_536

    private let bytes: UnsafeRawBufferPointer

    /// The problems of the zip in `bytes`; none when it reads the same for libclamav
    /// and for a receiver. A zip with no end-of-central-directory record (cut short, or
    /// never finished) but with a member is not vouched for (`noCentralDirectory`), and its
    /// local headers say what else libclamav would miss.
    static func problems(in bytes: UnsafeRawBufferPointer) -> Set<Problem> {
        ZipAudit(bytes: bytes).audit().problems
    }

    /// A member whose local header libclamav cannot read (zip64 sizes), located by the
    /// central directory, for Kordon to unpack itself: its method and compressed bytes.
    struct Member {
        /// Its compression method (0 stored, 8 deflate, 12 bzip2, …).
        let method: UInt16
        /// Where its compressed data lies in the zip.
        let data: Range<Int>
    }

    /// The problems, and the members of the `zip64LocalSizes` problem.
    static func audit(_ bytes: UnsafeRawBufferPointer) -> (problems: Set<Problem>, zip64Members: [Member]) {
        ZipAudit(bytes: bytes).audit()
    }

    private func audit() -> (problems: Set<Problem>, zip64Members: [Member]) {
        guard let end = endOfCentralDirectory() else { return (localHeaderProblems(), []) }
        var problems: Set<Problem> = []
        var zip64Members: [Member] = []
        // Offsets in the directory are relative to the archive's start; a zip appended
        // to other bytes (a self-extractor, or a concatenation) starts later. Python's
        // zipfile computes the same correction.
        let shift = end.directoryStart - end.directoryOffset
        guard shift >= 0 else { return ([.inconsistentHeaders], []) }
        var listedHeaders: Set<Int> = []
        var dataRanges: [Range<Int>] = []
        var position = end.directoryStart
        for _ in 0..<min(end.entries, Self.maxEntries) {
            guard let entry = centralEntry(at: position) else {
                problems.insert(.inconsistentHeaders)
                break
            }
            position = entry.next
            let header = entry.localOffset + shift
            listedHeaders.insert(header)
            guard let local = localHeader(at: header) else {
                problems.insert(.inconsistentHeaders)
                continue
            }
            if local.method != entry.method || (!local.sizesDeferred && !local.agrees(with: entry)) {
                problems.insert(.inconsistentHeaders)
            }
            let dataEnd = local.dataStart.addingReportingOverflow(entry.compressedSize)
            if !local.sizesDeferred && local.hasZip64Sizes {
                problems.insert(.zip64LocalSizes)
                if !dataEnd.overflow, dataEnd.partialValue <= bytes.count {
                    zip64Members.append(Member(method: entry.method, data: local.dataStart..<dataEnd.partialValue))
                }
            }
            if !entry.isEmptyDirectory, !Self.unpackedMethods.contains(entry.method) {
                problems.insert(.unsupportedMethod(entry.method))
            }
            if !dataEnd.overflow, dataEnd.partialValue <= bytes.count {
                dataRanges.append(local.dataStart..<dataEnd.partialValue)
            }
        }
        if end.entries > Self.maxEntries { problems.insert(.inconsistentHeaders) }
        let members = MemberData(dataRanges)
        let insideData = { (offset: Int) in members.contains(offset) }
        for offset in occurrences(of: 0x0403_4B50) where !listedHeaders.contains(offset) && !insideData(offset) {
            if localHeader(at: offset) != nil {
                problems.insert(.unlistedMember)
                break
            }
        }
        if occurrences(of: 0x0605_4B50).filter({ !insideData($0) }).count > 1 {
            problems.insert(.severalDirectories)
        }
        return (problems, zip64Members)
    }

    /// The problems a walk of the local headers finds, for a zip without a central directory.
    private func localHeaderProblems() -> Set<Problem> {
        var problems: Set<Problem> = []
        for offset in occurrences(of: 0x0403_4B50).prefix(Self.maxEntries) {
            guard let local = localHeader(at: offset) else { continue }
            // Even a header that says "empty": sizes are what a zip that lies changes.
            problems.insert(.noCentralDirectory)
            guard !local.isEmpty else { continue }
            if !Self.unpackedMethods.contains(local.method) { problems.insert(.unsupportedMethod(local.method)) }
            if !local.sizesDeferred && local.hasZip64Sizes { problems.insert(.zip64LocalSizes) }
        }
        return problems
    }

    // MARK: - Records

    private struct EndRecord {
        var entries: Int
        var directoryOffset: Int
        /// Where the directory really starts: right before the end record (or the zip64 one).
        var directoryStart: Int
    }

    private struct CentralEntry {
        var method: UInt16
        var crc: UInt32
        var compressedSize: Int
        var size: Int
        var localOffset: Int
        var isEmptyDirectory: Bool
        var next: Int
    }

    private struct LocalHeader {
        var method: UInt16
        var crc: UInt32
        var compressedSize: UInt32
        var size: UInt32
        /// General-purpose bit 3: CRC and sizes follow the data in a descriptor.
        var sizesDeferred: Bool
        var dataStart: Int

        /// Whether the sizes are left to a zip64 extra field.
        var hasZip64Sizes: Bool { compressedSize == 0xFFFF_FFFF || size == 0xFFFF_FFFF }
        /// Whether the header announces no data at all (a directory, an empty file).
        var isEmpty: Bool { !sizesDeferred && compressedSize == 0 && size == 0 }

        /// Whether CRC and sizes agree with the central directory (a zip64 local
        /// header keeps its sizes in an extra field: `0xFFFFFFFF` defers to the directory).
        func agrees(with entry: CentralEntry) -> Bool {
            guard crc == entry.crc else { return false }
            if compressedSize == 0xFFFF_FFFF || size == 0xFFFF_FFFF { return true }
            return Int(compressedSize) == entry.compressedSize && Int(size) == entry.size
        }
    }

    /// The last end-of-central-directory record (within the 64 KB a comment may take),
    /// followed to its zip64 record when its fields overflow.
    private func endOfCentralDirectory() -> EndRecord? {
        guard bytes.count >= 22 else { return nil }
        let lowest = max(0, bytes.count - 22 - 0xFFFF)
        var offset = bytes.count - 22
        while offset >= lowest {
            if u32(offset) == 0x0605_4B50 { break }
            offset -= 1
        }
        guard offset >= lowest, let entries = u16(offset + 10), let size = u32(offset + 12),
              let directory = u32(offset + 16) else { return nil }
        // A zip64 end record sits before its locator whether or not the classic record's
        // fields overflow (Info-ZIP writes one for a member read from a pipe): the directory
        // then ends where the zip64 record starts. Like Python's zipfile, it is looked for
        // right before the locator (its 56 bytes), else where the locator says.
        if offset >= 20, u32(offset - 20) == 0x0706_4B50 {
            let candidates = [offset - 20 - 56, u64(offset - 12).flatMap(Int.init(exactly:)) ?? -1]
            if let zip64 = candidates.first(where: { u32($0) == 0x0606_4B50 }),
               let count = u64(zip64 + 32).flatMap(Int.init(exactly:)),
               let size64 = u64(zip64 + 40).flatMap(Int.init(exactly:)),
               let start64 = u64(zip64 + 48).flatMap(Int.init(exactly:)) {
                return EndRecord(entries: count, directoryOffset: start64, directoryStart: zip64 - size64)
            }
        }
        return EndRecord(entries: Int(entries), directoryOffset: Int(directory), directoryStart: offset - Int(size))
    }

    private func centralEntry(at offset: Int) -> CentralEntry? {
        guard offset >= 0, u32(offset) == 0x0201_4B50, let method = u16(offset + 10), let crc = u32(offset + 16),
              var compressed = u32(offset + 20).map(UInt64.init), var size = u32(offset + 24).map(UInt64.init),
              let nameLength = u16(offset + 28), let extraLength = u16(offset + 30),
              let commentLength = u16(offset + 32), var local = u32(offset + 42).map(UInt64.init) else { return nil }
        let nameStart = offset + 46
        let extraStart = nameStart + Int(nameLength)
        let next = extraStart + Int(extraLength) + Int(commentLength)
        guard next <= bytes.count else { return nil }
        // Zip64: each overflowing field is in the 0x0001 extra field, in this order.
        if size == 0xFFFF_FFFF || compressed == 0xFFFF_FFFF || local == 0xFFFF_FFFF,
           var field = zip64Extra(from: extraStart, length: Int(extraLength)) {
            if size == 0xFFFF_FFFF, let value = u64(field) { size = value; field += 8 }
            if compressed == 0xFFFF_FFFF, let value = u64(field) { compressed = value; field += 8 }
            if local == 0xFFFF_FFFF, let value = u64(field) { local = value }
        }
        guard let compressed = Int(exactly: compressed), let size = Int(exactly: size),
              let local = Int(exactly: local) else { return nil }
        let isDirectory = nameLength > 0 && bytes[extraStart - 1] == UInt8(ascii: "/") && size == 0
        return CentralEntry(method: method, crc: crc, compressedSize: compressed, size: size, localOffset: local,
                            isEmptyDirectory: isDirectory, next: next)
    }

    private func localHeader(at offset: Int) -> LocalHeader? {
        guard offset >= 0, u32(offset) == 0x0403_4B50, let flags = u16(offset + 6), let method = u16(offset + 8),
              let crc = u32(offset + 14), let compressed = u32(offset + 18), let size = u32(offset + 22),
              let nameLength = u16(offset + 26), let extraLength = u16(offset + 28) else { return nil }
        let dataStart = offset + 30 + Int(nameLength) + Int(extraLength)
        guard dataStart <= bytes.count else { return nil }
        return LocalHeader(method: method, crc: crc, compressedSize: compressed, size: size,
                           sizesDeferred: flags & 0x0008 != 0, dataStart: dataStart)
    }

    /// The start of the zip64 extra field's data within `length` bytes of extra fields.
    private func zip64Extra(from start: Int, length: Int) -> Int? {
        var field = start
        while field + 4 <= start + length, let id = u16(field), let size = u16(field + 2) {
            if id == 0x0001 { return field + 4 }
            field += 4 + Int(size)
        }
        return nil
    }

    /// Member data ranges, sorted, to tell in logarithmic time whether a signature found
    /// in the bytes is part of a member's (stored) content rather than a header.
    private struct MemberData {
        private let ranges: [Range<Int>]

        init(_ ranges: [Range<Int>]) {
            self.ranges = ranges.filter { !$0.isEmpty }.sorted { $0.lowerBound < $1.lowerBound }
        }

        /// Whether `offset` lies inside some member's data. Ranges may overlap (a zip
        /// whose entries share data), so every range starting at or before `offset` that
        /// could reach it is looked at, nearest first.
        func contains(_ offset: Int) -> Bool {
            var low = 0, high = ranges.count
            while low < high {
                let middle = (low + high) / 2
                if ranges[middle].lowerBound <= offset { low = middle + 1 } else { high = middle }
            }
            var index = low - 1
            var steps = 0
            while index >= 0, steps < 64 {
                if ranges[index].contains(offset) { return true }
                index -= 1
                steps += 1
            }
            return false
        }
    }

    // MARK: - Bytes

    /// Offsets of every occurrence of a 4-byte little-endian signature (`PK` and two
    /// bytes), found with `memchr` for the `P` (glibc's `memmem` is not exported to Swift).
    private func occurrences(of signature: UInt32) -> [Int] {
        guard let base = bytes.baseAddress, bytes.count >= 4 else { return [] }
        let first = Int32(signature & 0xFF)
        var found: [Int] = []
        var offset = 0
        while offset <= bytes.count - 4 {
            guard let hit = memchr(base + offset, first, bytes.count - 3 - offset) else { break }
            let position = base.distance(to: UnsafeRawPointer(hit))
            if u32(position) == signature { found.append(position) }
            offset = position + 1
        }
        return found
    }

    private func u16(_ offset: Int) -> UInt16? {
        guard offset >= 0, offset + 2 <= bytes.count else { return nil }
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    private func u32(_ offset: Int) -> UInt32? {
        guard offset >= 0, offset + 4 <= bytes.count else { return nil }
        return bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian
    }

    private func u64(_ offset: Int) -> UInt64? {
        guard offset >= 0, offset + 8 <= bytes.count else { return nil }
        return bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian
    }
}
