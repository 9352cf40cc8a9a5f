import Foundation
import Storage
import Testing

/// The metering books survive a restart, and keep a bounded number of acknowledgements per provider.
@Suite struct ReceiptBookTests {
    @Test func streamsAndAcknowledgementsSurviveReopening() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("book-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + ReceiptBook.fileName
        let party = [UInt8](repeating: 7, count: 20), other = [UInt8](repeating: 9, count: 20)
        do {
            let book = try ReceiptBook(path: path)
            try book.save(.provided, [ReceiptBook.Stream(party: party, moved: 5_000, units: 4_000, sequence: 3, receipt: [1, 2, 3])])
            try book.save(.provided, [ReceiptBook.Stream(party: party, moved: 6_000, units: 4_000, sequence: 3, receipt: [1, 2, 3])])
            try book.save(.consumed, [ReceiptBook.Stream(party: other, moved: 9, units: 9, sequence: 1)])
            for sequence in 1...UInt64(ReceiptBook.acksPerProvider + 10) {
                try book.saveAck(provider: other, sequence: sequence, units: sequence * 10, ack: [UInt8(sequence % 256)])
            }
        }
        let book = try ReceiptBook(path: path)
        #expect(try book.streams(.provided) == [ReceiptBook.Stream(party: party, moved: 6_000, units: 4_000, sequence: 3, receipt: [1, 2, 3])])
        #expect(try book.streams(.consumed) == [ReceiptBook.Stream(party: other, moved: 9, units: 9, sequence: 1)])
        #expect(try book.ack(provider: other, sequence: 5) == nil, "the oldest acknowledgements are dropped")
        let newest = UInt64(ReceiptBook.acksPerProvider + 10)
        #expect(try book.ack(provider: other, sequence: newest)?.units == newest * 10)
        #expect(try book.ack(provider: party, sequence: newest) == nil)
    }
}
