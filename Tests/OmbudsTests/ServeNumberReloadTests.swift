import Foundation
import OmbudsEngine
import OmbudsStore
import Testing

/// A rule change whose numbers are out of range (a decimal bound past what money arithmetic
/// holds, an integer past Int64) saved under a running `ombuds serve`: refused with the
/// number's position and `rules.number-range`, while the last good rules keep serving.
@Suite(.serialized) struct ServeNumberReloadTests {
  @Test func outOfRangeNumbersAreRefusedAndTheLastGoodRulesKeepServing() async throws {
    let f = try await NotifierFixture()
    let events = ServeTests.Events()
    let server = try TestHTTPServer(arrived: { events.signal() })
    defer { server.shutdown() }
    let process = try ServeTests.serve(f, server, events)
    defer { if process.isRunning { process.terminate() } }
    func delivered(_ key: String) -> Bool { server.requests.contains { $0.header("Idempotency-Key") == key } }

    try await f.store.apply(received("N1", "2025-10-09T10:00:00+08:00", ["media": "exposed"]))
    try events.wait("the first delivery") { delivered("N1/enter/major/0/customer_service_center/webhook") }

    // The change that made `rules-check` die of an arithmetic overflow before.
    let extra = f.rulesDir.appendingPathComponent("zz-numbers.yaml")
    try """
    fields:
      ratio:
        type: decimal
        max: 99999999999999999
        default: 1
      floors:
        type: integer
        min: -99999999999999999999
        default: 0

    """.write(to: extra, atomically: true, encoding: .utf8)
    try events.wait("the refusal") { events.log.contains("rules refused") }
    #expect(events.log.contains("zz-numbers.yaml"))
    #expect(events.log.contains("\"code\":\"rules.number-range\""))
    #expect(process.isRunning)

    try await f.store.apply(received("N2", "2025-10-09T11:00:00+08:00", ["media": "exposed"]))
    try events.wait("delivery under the last good rules") {
      delivered("N2/enter/major/0/customer_service_center/webhook")
    }
    process.terminate()
    try events.wait("the exit") { !process.isRunning }
    #expect(process.terminationStatus == 0)
  }
}
