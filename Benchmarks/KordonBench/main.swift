// KordonBench: detection throughput of the restricted-data rules, and (AuditBench.swift)
// the audit log's append path.
//
//   swift run -c release KordonBench detection [--mb N] [--numeric] [--rules DIR] [--passes P] [--cache DIR]
//   swift run -c release KordonBench audit [--seconds S] [--appenders N] [--dir DIR]
//
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
// --cache ≈ 0.065 s (the four databases read back). (This folder holds only
// Swift sources: any other file would be an unhandled resource of the executable target.)
import Foundation
import KordonRules

struct Options {
    var megabytes = 100
    var rules = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("rules")
    var passes = 3
    /// Numbers in every sentence (a worst case: about a fifth of the bytes are digits).
    var numeric = false
    /// The compiled-database cache directory, if any.
    var cache: URL?

    init(_ arguments: [String]) {
        var iterator = arguments.makeIterator()
        guard iterator.next() == "detection" else { Self.usage() }
        while let argument = iterator.next() {
            switch argument {
            case "--mb": megabytes = Self.number(iterator.next())
            case "--rules":
                guard let path = iterator.next() else { Self.usage() }
                rules = URL(fileURLWithPath: path)
            case "--passes": passes = Self.number(iterator.next())
            case "--numeric": numeric = true
            case "--cache":
                guard let path = iterator.next() else { Self.usage() }
                cache = URL(fileURLWithPath: path)
            default: Self.usage()
            }
        }
    }

    static func number(_ text: String?) -> Int {
        guard let text, let value = Int(text), value > 0 else { usage() }
        return value
    }

    static func usage() -> Never {
        FileHandle.standardError.write(Data("usage: KordonBench detection [--mb N] [--numeric] [--rules DIR] [--passes P] [--cache DIR]\n       KordonBench audit [--seconds S] [--appenders N] [--dir DIR]\n".utf8))
        exit(2)
    }
}

/// A small deterministic generator (xorshift64*), so every run scans the same text.
struct Random {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 2_685_821_657_736_338_717
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...items.count - 1)] }
    mutating func digits(_ count: Int) -> String { String((0..<count).map { _ in Character(String(int(0...9))) }) }
}

/// Customs prose: one sentence at a time.
struct Corpus {
    var random = Random()
    let numeric: Bool
    let companies = ["ТОО «Астана Логистик»", "ООО «Северный путь»", "ОАО «Гродно Азот»", "ОсОО «Бишкек Транс»",
                     "ЗАО «Ереван Импорт»", "АО «КазМунайТрейд»", "Silk Road Freight LLP", "ИП Сейткали Б."]
    let goods = ["плиты ДСП ламинированные, 16 мм", "ноутбуки портативные", "запасные части к тракторам", "мука пшеничная",
                 "трубы стальные бесшовные", "кабель силовой медный", "laptop computers", "tractor spare parts"]
    let cities = ["Алматы", "Москва", "Минск", "Бишкек", "Ереван", "Нур-Султан", "Новосибирск", "Брест"]
    let valid = ["ИИН 061211600012", "БИН 940140000385", "ИНН 7707083893", "ИНН 500100732259", "СНИЛС 112-233-445 95",
                 "ОГРН 1027700132195", "УНП 200988541"]

    mutating func date() -> String {
        let (d, m, y) = (random.int(1...28), random.int(1...12), random.int(2019...2026))
        switch random.int(0...2) {
        case 0: return String(format: "%02d.%02d.%04d", d, m, y)
        case 1: return String(format: "%04d-%02d-%02d", y, m, d)
        default: return String(format: "%04d%02d%02d%02d%02d%02d", y, m, d, random.int(0...23), random.int(0...59), random.int(0...59))
        }
    }

    mutating func amount() -> String {
        random.int(0...1) == 0
            ? "\(random.int(1...999)) \(random.digits(3)) \(random.digits(3)),\(random.digits(2))"
            : "\(random.int(1_000_000...9_999_999_999)).\(random.digits(2))"
    }

    mutating func phone() -> String {
        random.pick(["+7 727 \(random.digits(3))-\(random.digits(2))-\(random.digits(2))", "8701\(random.digits(7))",
                     "+7701\(random.digits(7))", "+375 17 \(random.digits(3))-\(random.digits(2))-\(random.digits(2))"])
    }

    mutating func hs() -> String { "\(random.int(1...9))\(random.digits(9))" }

    /// Prose without numbers: what most of a customs text is made of.
    let prose = [
        "Таможенный орган проверил сведения, заявленные в декларации, и не выявил признаков недостоверного декларирования. ",
        "Декларант обязан представить документы, подтверждающие происхождение товаров, по запросу таможенного органа. ",
        "Товары помещены под таможенную процедуру выпуска для внутреннего потребления после уплаты таможенных платежей. ",
        "Грузополучатель уведомлен о необходимости предъявить товары и транспортное средство в зоне таможенного контроля. ",
        "Тауарлар кедендік бақылау аймағында тексерілді, бұзушылықтар анықталған жоқ. ",
        "Декларант тауарлардың шығарылған елін растайтын құжаттарды ұсынуы тиіс. ",
        "The goods were inspected at the border crossing point and released without further examination. ",
        "The declarant shall keep the commercial documents for the period established by customs legislation.\n",
    ]

    mutating func sentence(_ index: Int) -> String {
        if !numeric && random.int(0...1) == 0 { return random.pick(prose) }
        switch random.int(0...7) {
        case 0: return "Декларант \(random.pick(companies)) представил декларацию на товары № 1070\(random.digits(4))/\(random.digits(6))/\(random.digits(7)) от \(date()). "
        case 1: return "Товар: \(random.pick(goods)), код ТН ВЭД \(hs()), вес нетто \(random.int(1...90_000)) кг, таможенная стоимость \(amount()) руб. "
        case 2: return "Контактный телефон: \(phone()). Дата и время регистрации: \(date()). "
        case 3: return "Груз следует из г. \(random.pick(cities)) в г. \(random.pick(cities)) автомобильным транспортом, CMR № \(random.digits(7)) от \(date()). "
        case 4: return "Декларант \(random.pick(companies)) тауарларға декларацияны \(date()) ұсынды, тауар коды \(hs()), кедендік құны \(amount()) теңге. "
        case 5: return "The consignment of \(random.pick(goods)) (HS \(hs())) was released on \(date()); invoice INV-\(random.digits(4))/\(random.digits(5)) for \(amount()) USD. "
        case 6: return "Please contact the broker at \(phone()) about container MSKU\(random.digits(7)), seal \(random.digits(8)). "
        default: return "Оплата по счёту № \(random.digits(6)) произведена \(date()) на сумму \(amount()) тенге, курс \(random.int(400...520)).\(random.digits(2)).\n"
        }
    }

    /// About `megabytes` MB, cut into chunks of about 64 KB at line or word ends.
    mutating func chunks(megabytes: Int) -> (chunks: [[UInt8]], planted: Int) {
        var chunks: [[UInt8]] = []
        var current: [UInt8] = []
        current.reserveCapacity(70_000)
        var total = 0
        var planted = 0
        var index = 0
        var nextMarking = 3 << 20
        while total < megabytes << 20 {
            var text = sentence(index)
            if random.int(0...299) == 0 {
                text += "Сведения: \(random.pick(valid)). "
                planted += 1
            }
            if total >= nextMarking {
                text += "\nДля служебного пользования\n"
                nextMarking += 3 << 20
                planted += 1
            }
            index += 1
            current.append(contentsOf: text.utf8)
            if current.count >= 65_536 {
                total += current.count
                chunks.append(current)
                current.removeAll(keepingCapacity: true)
            }
        }
        return (chunks, planted)
    }
}

if CommandLine.arguments.dropFirst().first == "audit" {
    try AuditBench.run(Array(CommandLine.arguments.dropFirst(2)))
    exit(0)
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
var corpus = Corpus(numeric: options.numeric)
let built = Date()
let (chunks, planted) = corpus.chunks(megabytes: options.megabytes)
let bytes = chunks.reduce(0) { $0 + $1.count }
let digits = chunks.reduce(0) { total, chunk in total + chunk.reduce(0) { $0 + ($1 >= 0x30 && $1 <= 0x39 ? 1 : 0) } }
print("corpus: \(bytes / 1_048_576) MB in \(chunks.count) chunks, \(String(format: "%.1f", Double(digits) * 100 / Double(bytes)))% digits, \(planted) planted findings (built in \(String(format: "%.1f", Date().timeIntervalSince(built))) s)")

/// CPU time of this thread: on a machine shared with other work, wall time measures the neighbours too.
func threadCPUSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

let loading = (wall: Date(), cpu: threadCPUSeconds())
let library = try RuleLibrary.load(directories: [options.rules], pseudonymKey: nil, cacheDirectory: options.cache)
let rules = try library.ruleSet(for: library.packs.map(\.id))
print("rules: \(rules.description) (loaded and compiled in \(String(format: "%.2f", Date().timeIntervalSince(loading.wall))) s, \(String(format: "%.3f", threadCPUSeconds() - loading.cpu)) s CPU)")
if let report = library.cacheReport {
    print(report)
    report.problems.forEach { print("  \($0)") }
}

var best = (wall: Double.infinity, cpu: Double.infinity)
let megabytes = Double(bytes) / 1_048_576
for pass in 1...options.passes {
    var matches = 0
    let start = (wall: DispatchTime.now().uptimeNanoseconds, cpu: threadCPUSeconds())
    for chunk in chunks { matches += rules.scan(chunk).count }
    let wall = Double(DispatchTime.now().uptimeNanoseconds - start.wall) / 1e9
    let cpu = threadCPUSeconds() - start.cpu
    best = (min(best.wall, wall), min(best.cpu, cpu))
    print(String(format: "pass %d: %.3f s wall (%.0f MB/s), %.3f s CPU (%.0f MB/s), %d matches",
                 pass, wall, megabytes / wall, cpu, megabytes / cpu, matches))
}
print(String(format: "detection: %.0f MB/s per core-second of CPU, %.0f MB/s wall (best of %d passes, all packs, one thread)",
             megabytes / best.cpu, megabytes / best.wall, options.passes))
