import Testing
@testable import KordonRules
