import Foundation

/// The progress line of a long add or sync (specs/content.md §Command line): bytes done (of the total when
/// known), the rate, and the time left, redrawn on standard error at most five times a second — only on
/// a terminal, never with --json, and only once the work passes `thresholdBytes`.
final class ProgressLine: @unchecked Sendable {
    static let thresholdBytes: UInt64 = 4 << 20
    let label: String
    let total: UInt64?
    let enabled: Bool
    private let lock = NSLock()
    private var done: UInt64 = 0
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var drawn = false

    init(_ label: String, total: UInt64?, options: GlobalOptions) {
        self.label = label
        self.total = total
        enabled = !options.json && isatty(STDERR_FILENO) == 1
    }

    /// `bytes` more done.
    func advance(_ bytes: Int) { set(lock.withLock { done } + UInt64(max(0, bytes))) }

    /// `bytes` done in all.
    func set(_ bytes: UInt64) {
        guard enabled else { return }
        lock.withLock {
            done = bytes
            guard max(done, total ?? 0) >= Self.thresholdBytes, Date().timeIntervalSince(lastDraw) >= 0.2 else { return }
            draw()
        }
    }

    func finish() {
        guard enabled else { return }
        lock.withLock {
            guard drawn else { return }
            if let total { done = max(done, total) }
            draw()
            FileHandle.standardError.write(Data("\n".utf8))
        }
    }

    /// Call with the lock held.
    private func draw() {
        lastDraw = Date()
        drawn = true
        FileHandle.standardError.write(Data(("\r\u{1b}[K" + Self.render(label: label, done: done, total: total, seconds: Date().timeIntervalSince(start))).utf8))
    }

    static func mebibytes(_ bytes: UInt64) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }

    /// "adding video.mp4  12.0 MiB / 100.0 MiB  40.0 MiB/s  0:02 left"
    static func render(label: String, done: UInt64, total: UInt64?, seconds: Double) -> String {
        let shown = total.map { min(done, $0) } ?? done
        let rate = seconds > 0 ? Double(shown) / seconds : 0
        var line = "\(label)  \(mebibytes(shown))"
        if let total { line += " / \(mebibytes(total))" }
        line += String(format: "  %.1f MiB/s", rate / 1_048_576)
        if let total {
            // At most 99 hours shown: a rate near zero must not make the estimate overflow.
            let left = rate > 0 ? Int(min(Double(total - shown) / rate, 359_999).rounded(.up)) : 0
            line += String(format: "  %d:%02d left", left / 60, left % 60)
        }
        return line
    }

    /// The bytes of the regular files under `path` (what an add reads), not following symlinks.
    static func fileBytes(_ path: String, hidden: Bool) -> UInt64 {
        var status = stat()
        guard lstat(path, &status) == 0 else { return 0 }
        switch status.st_mode & S_IFMT {
        case S_IFREG: return UInt64(status.st_size)
        case S_IFDIR:
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            return names.filter { hidden || !$0.hasPrefix(".") }.reduce(0) { $0 + fileBytes(path + "/" + $1, hidden: hidden) }
        default: return 0
        }
    }
}
