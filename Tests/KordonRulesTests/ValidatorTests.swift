import Testing
@testable import KordonRules

/// The validators accept the published examples and refuse numbers whose checksum,
/// date or structure fails.
@Suite(.timeLimit(.minutes(10))) struct ValidatorTests {
    private func check(_ name: String, _ value: String) -> Validity {
        Validators.all[name]!(Array(value.utf8)[...])
    }

    @Test(arguments: ["061211600012", "791028302728"])
    func kazakhIINIsValid(_ value: String) {
        #expect(check("kz.iin", value) == .valid)
    }

    @Test(arguments: ["821214240092", "061211600013", "061311600012", "061211700012", "991231600019"])
    func kazakhIINWithBadChecksumCenturyOrDateIsInvalid(_ value: String) {
        #expect(check("kz.iin", value) == .invalid)
    }

    @Test(arguments: ["940140000385", "990140004654"])
    func kazakhBINIsValid(_ value: String) {
        #expect(check("kz.bin", value) == .valid)
    }

    @Test func kazakhBINNeedsTypeAndAttributeDigits() {
        // A valid IIN has a date where a BIN has its type digit: it is no BIN.
        #expect(check("kz.bin", "061211600012") == .invalid)
        #expect(check("kz.bin", "940140000386") == .invalid)
    }

    @Test func kazakhSecondPassCheckDigit() {
        // 061211600012: the first pass gives 10, the second pass gives the check digit 2.
        let digits = Array("061211600012".utf8).map { Int($0 - 48) }
        #expect(Digits.weighted(digits, Array(1...11)) % 11 == 10)
        #expect(Kazakhstan.checkDigit(digits) == 2)
    }

    @Test(arguments: ["7707083893", "500100732259"])
    func russianINNIsValid(_ value: String) {
        #expect(check("ru.inn", value) == .valid)
    }

    @Test(arguments: ["1234567895", "7707083894", "500100732258", "0007083893", "77070838931"])
    func russianINNWithBadChecksumOrLengthIsInvalid(_ value: String) {
        #expect(check("ru.inn", value) == .invalid)
    }

    @Test func snilsChecksumAndSeparators() {
        #expect(check("ru.snils", "112-233-445 95") == .valid)
        #expect(check("ru.snils", "11223344595") == .valid)
        #expect(check("ru.snils", "112-233-445 96") == .invalid)
        // Sums of 100 and 101 give 00; above 101, mod 101, where 100 gives 00 too.
        #expect(check("ru.snils", "026-002-389 00") == .valid)  // sum 100
        #expect(check("ru.snils", "030-214-884 00") == .valid)  // sum 101
        #expect(check("ru.snils", "543-546-368 00") == .valid)  // sum 201, mod 101 = 100
        #expect(check("ru.snils", "026-002-389 99") == .invalid)
    }

    @Test func snilsUpTo001001998CarriesNoChecksum() {
        #expect(check("ru.snils", "001-001-998 00") == .validWithContext)
        #expect(check("ru.snils", "000-123-456 77") == .validWithContext)
        #expect(check("ru.snils", "001-001-999 00") == .invalid)
    }

    @Test func russianRegistrationNumbers() {
        #expect(check("ru.ogrn", "1027700132195") == .valid)
        #expect(check("ru.ogrn", "1027700132196") == .invalid)
        #expect(check("ru.ogrn", "2027700132195") == .invalid)
        #expect(check("ru.ogrnip", "304500116000157") == .valid)
        #expect(check("ru.ogrnip", "304500116000158") == .invalid)
    }

    @Test func russianPassportSeriesAndNumber() {
        #expect(check("ru.passport", "45 06 123456") == .valid)
        #expect(check("ru.passport", "4599123456") == .valid)
        #expect(check("ru.passport", "0006123456") == .invalid)
        #expect(check("ru.passport", "4550123456") == .invalid)
        #expect(check("ru.passport", "4506000000") == .invalid)
    }

    @Test(arguments: ["200988541", "MA1953684", "МА1953684"])
    func belarusianUNPIsValid(_ value: String) {
        // МА1953684 is written with Cyrillic М and А: look-alikes count as their Latin twins.
        #expect(check("by.unp", value) == .valid)
    }

    @Test func belarusianUNPLettersCountInTheChecksum() {
        // M is the 23rd character of 0-9A-Z (22), A is the first of ABCEHKMOPT (0):
        // 29·22 + 23·0 + 19·1 + 17·9 + 13·5 + 7·3 + 5·6 + 3·8 = 950 ≡ 4 (mod 11).
        #expect(check("by.unp", "MA1953684") == .valid)
        #expect(check("by.unp", "MB1953684") == .invalid)
    }

    @Test(arguments: ["200988542", "800988541", "MZ1953684", "XA1953684", "MA1953685"])
    func belarusianUNPWithBadChecksumOrLettersIsInvalid(_ value: String) {
        #expect(check("by.unp", value) == .invalid)
    }

    @Test func belarusianPersonalNumber() {
        #expect(check("by.personal-number", "3140692A001PB6") == .valid)
        #expect(check("by.personal-number", "3140692А001РВ6") == .valid) // Cyrillic А, Р, В
        #expect(check("by.personal-number", "3310292A001PB6") == .invalid) // 31 February
        #expect(check("by.personal-number", "7140692A001PB6") == .invalid) // century digit
        #expect(check("by.personal-number", "3140692Z001PB6") == .invalid)
        #expect(check("by.personal-number", "3140692A001PX6") == .invalid)
    }

    @Test func kyrgyzPIN() {
        #expect(check("kg.pin", "21504199000123") == .valid)
        #expect(check("kg.pin", "23002199000123") == .invalid) // 30 February
        #expect(check("kg.pin", "31504199000123") == .invalid) // sex digit
        #expect(check("kg.pin", "21504289900123") == .invalid) // born in 2899
    }

    @Test func paymentCardLuhn() {
        #expect(check("luhn", "4111 1111 1111 1111") == .valid)
        #expect(check("luhn", "4111111111111112") == .invalid)
        #expect(check("luhn", "0000000000000000") == .invalid)
    }

    @Test func calendarDates() {
        #expect(CalendarDate.exists(year: 2000, month: 2, day: 29))
        #expect(!CalendarDate.exists(year: 1900, month: 2, day: 29))
        #expect(!CalendarDate.exists(year: 2024, month: 4, day: 31))
        #expect(!CalendarDate.isPast(year: CalendarDate.currentYear + 1, month: 1, day: 1))
    }
}
