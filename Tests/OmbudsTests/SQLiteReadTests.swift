import Foundation
import GRDB
import Testing

@testable import OmbudsStore

/// How the SQLite backend reads values its columns do not declare: a REAL (an average) as its
/// integer part, and one no `Int64` holds as NULL — never a trap.
@Suite struct SQLiteReadTests {
  @Test func realsReadAsIntegersOrNullNeverATrap() throws {
    let db = try DatabaseQueue()
    let rows = try db.read { db in
      try SQLiteBackend.fetch(
        db, SQLStatement("SELECT 3.75 AS a, -2.5 AS b, 1e300 AS c, -1e19 AS d, 9.0e18 AS e, NULL AS f"))
    }
    let row = try #require(rows.first)
    #expect(row["a"] as Int64? == 3)
    #expect(row["b"] as Int64? == -2)
    #expect(row["c"] as Int64? == nil)
    #expect(row["d"] as Int64? == nil)
    #expect(row["e"] as Int64? == 9_000_000_000_000_000_000)
    #expect(row["f"] as Int64? == nil)
  }
}
