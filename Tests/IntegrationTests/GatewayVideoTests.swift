import Foundation
import Testing

/// Headless Chromium plays a video from the gateway and seeks in it (specs/content.md §Gateway): the
/// video (Tests/fixtures/seek.webm, 12 s of VP8 made by ffmpeg's testsrc, a keyframe a second) is added in
/// 64 KiB chunks, so a seek lands in a later block. Seeking needs Range requests: from a server without
/// them (Python's http.server, measured when this test was written) Chromium reports nothing seekable and
/// the seek stays at 0 s.
@Suite(.serialized) struct GatewayVideoTests {
    static let page = """
        <!doctype html><meta charset=utf-8><video id=v src="seek.webm" muted preload=auto></video><pre id=out>pending</pre>
        <script>
        const v = document.getElementById('v'), out = document.getElementById('out'), log = [];
        function show() { out.textContent = log.join(' ') + ' seekable=' + (v.seekable.length ? v.seekable.end(0).toFixed(1) : 'none'); }
        v.addEventListener('loadedmetadata', () => { log.push('duration=' + v.duration.toFixed(1)); v.currentTime = 8; });
        v.addEventListener('seeked', () => { log.push('seeked=' + v.currentTime.toFixed(1)); v.play().then(() => log.push('playing'), () => log.push('playfailed')); });
        v.addEventListener('timeupdate', () => { if (v.currentTime > 8.3 && !log.includes('advanced')) log.push('advanced'); });
        v.addEventListener('error', () => log.push('error' + (v.error && v.error.code)));
        setInterval(show, 50);
        </script>
        """

    @Test func chromiumPlaysAVideoFromTheGatewayAndSeeksInIt() async throws {
        let chromium = try #require(ExplorerTests.chromium, "Chromium is not installed; `make test` installs it")
        let node = try NodeProcess(name: "video")
        let folder = Paths.temporaryFolder("video") + "/site"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Paths.root.appendingPathComponent("Tests/fixtures/seek.webm").path, toPath: folder + "/seek.webm")
        try Data(Self.page.utf8).write(to: URL(fileURLWithPath: folder + "/index.html"))
        let added = try node.ctl(["ipfs", "add", "-Q", "-r", "--chunker", "size-65536", folder])
        #expect(added.status == 0, "\(added.error)")
        let root = added.output.trimmingCharacters(in: .whitespacesAndNewlines)
        try node.start()
        defer { node.stop() }
        let video = try await HTTP.request("GET", node.url + "/ipfs/\(root)/seek.webm", headers: ["Range": "bytes=200000-"])
        #expect(video.status == 206 && video.headers["content-type"] == "video/webm")
        let result = try run(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--user-data-dir=\(Paths.temporaryFolder("chromium-video"))",
                                        "--autoplay-policy=no-user-gesture-required", "--virtual-time-budget=10000", "--dump-dom", node.url + "/ipfs/\(root)/"])
        let shown = result.output.components(separatedBy: "<pre id=\"out\">").dropFirst().first?.components(separatedBy: "</pre>").first ?? ""
        #expect(shown.contains("duration=12.0") && shown.contains("seeked=8.0") && shown.contains("playing") && shown.contains("advanced"), "\(shown)")
        #expect(shown.contains("seekable=12.0"), "\(shown)")
    }
}
