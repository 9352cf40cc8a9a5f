import ArgumentParser
import Foundation
import Ledger
import Storage

/// Web apps as MiMei (seeds 000's `lapp`, the toolkit seed's static front end): an app is a MiMei of
/// application type `lapp` whose extension is the app's name (the directory's name by default), each
/// upload a new version, served as a site at `/mm/{mid}/`.
struct AppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app",
        abstract: "Web apps (a Vue or React build) kept as MiMei and served as sites at /mm/<mid>/ (as Leither's lapp).",
        discussion: """
            upload makes the app's next version from a build directory (it must hold index.html); the app is
            named after the directory unless --name says otherwise, and one of that name by the same author is
            reused. publish puts the head into the DHT, after which any node serves it. Example:
            ledgerctl app upload dist/dav; ledgerctl app publish dav; open http://127.0.0.1:8650/mm/<mid>/
            """,
        subcommands: [Upload.self, Publish.self, Show.self])

    static let appType = "lapp"

    struct Upload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "upload", abstract: "Add a build directory as the app's next version.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The build directory (index.html at its root).") var directory: String
        @Option(help: "The app's name (default: the directory's name).") var name: String?
        @Flag(help: "A new app must be private (see mimei grant).") var `private` = false

        func run() async throws {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CLIError("\(directory) is not a directory; give an app's build directory")
            }
            guard FileManager.default.fileExists(atPath: directory + "/index.html") else { throw CLIError("\(directory) has no index.html: a site needs one at its root") }
            let appName = name ?? URL(fileURLWithPath: directory).standardizedFileURL.lastPathComponent
            guard !appName.isEmpty, appName.utf8.count <= MiMei.textMax else { throw CLIError("an app's name is 1 to \(MiMei.textMax) bytes") }
            let author = try options.key()
            let store = try options.mimeiStore
            var created = false
            let mimei: MiMei
            if let held = try appNamed(appName, author: author.publicKey.id, store: store) {
                guard held.isPrivate || !`private` else {
                    throw CLIError("app \(appName) (\(held.id.text)) is public; a private app needs another --name")
                }
                mimei = held
            } else {
                mimei = try cli {
                    let made = try MiMei(author: author.publicKey.id, kind: .file, app: AppCommand.appType, ext: appName, mark: UInt64.random(in: 0...UInt64.max),
                                         created: UInt64(Date().timeIntervalSince1970 * 1000), isPrivate: `private`)
                    try store.add(made)
                    return made
                }
                created = true
            }
            let adding = ContentImport(options: try UnixFSImporter.Options(), recursive: true)
            let progress = ProgressLine("uploading \(appName)", total: ProgressLine.fileBytes(directory, hidden: false), options: options)
            let (root, bytes) = try storeImport(adding, directory, into: store.content, privateTo: mimei.isPrivate ? mimei.id : nil, progress: progress)
            let version = try cli { try store.addVersion(mimei.id, cid: root.cid) }
            let url = "\(try options.client.base)/mm/\(mimei.id.text)/"
            options.output(["name": appName, "mid": mimei.id.text, "cid": root.cid.text, "version": version, "bytes": bytes, "created": created, "url": url]) {
                "\(created ? "created" : "updated") app \(appName) (\(mimei.id.text)): version \(version) is /ipfs/\(root.cid.text); served at \(url)"
            }
        }
    }

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "publish", abstract: "Publish the app's last version (its head into the DHT), so that any node serves it.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The app's name or MiMei ID.") var app: String
        @Option(help: "Hours until the head expires (default 168).") var eol = 168

        func run() async throws {
            let mimei = try resolveApp(app, options: options)
            try await publishMiMei(mimei.id, eolHours: eol, options: options)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "An app's ID, versions and files; without an app, every app held here.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The app's name or MiMei ID.") var app: String?
        @Option(help: "A version number, last or cur (default last).") var ver = "last"

        func run() async throws {
            let store = try options.mimeiStore
            guard let app else {
                let apps = try cli { try store.all() }.filter { $0.app == AppCommand.appType }
                let rows: [[String: Any]] = try apps.map { mimei in
                    ["name": mimei.ext, "mid": mimei.id.text, "author": mimei.author.text, "version": try cli { try store.last(mimei.id)?.number } ?? 0]
                }
                options.output(["apps": rows]) {
                    rows.isEmpty ? "no apps here; ledgerctl app upload DIR makes one"
                        : rows.map { "\($0["name"] ?? "")\t\($0["mid"] ?? "")\tversion \($0["version"] ?? 0)" }.joined(separator: "\n")
                }
                return
            }
            let mimei = try resolveApp(app, options: options)
            let versions = try cli { try store.versions(mimei.id) }
            let chosen: MiMeiStore.Version?
            if ver == "last" || ver == "cur" { chosen = versions.last } else if let number = UInt64(ver) { chosen = versions.first { $0.number == number } } else {
                throw CLIError("--ver must be a version number, last or cur")
            }
            guard let chosen else { throw CLIError("app \(mimei.ext) has no version \(ver) here") }
            var files: [[String: Any]] = []
            do {
                if case .directory(let links) = try ContentExport(store: store.content).entry(chosen.cid) {
                    files = links.map { ["name": $0.name, "cid": $0.cid.text, "size": $0.totalSize] }
                }
            } catch { throw CLIError("version \(chosen.number) of \(mimei.ext) is not held here: \(error)") }
            let url = "\(try options.client.base)/mm/\(mimei.id.text)/"
            var view = describe(mimei)
            view["name"] = mimei.ext
            view["version"] = chosen.number
            view["cid"] = chosen.cid.text
            view["versions"] = versions.map { ["version": $0.number, "cid": $0.cid.text] }
            view["files"] = files
            view["url"] = url
            options.output(view) {
                (["App     \(mimei.ext)", "MiMei   \(mimei.id.text)", "Author  \(mimei.author.text)", "Version \(chosen.number) of \(versions.count)",
                  "CID     \(chosen.cid.text)", "URL     \(url)", "", "files"] + files.map { "\($0["cid"] ?? "")\t\($0["size"] ?? 0)\t\($0["name"] ?? "")" })
                    .joined(separator: "\n")
            }
        }
    }
}

/// The app of that name by `author` held here, if any.
func appNamed(_ name: String, author: ID, store: MiMeiStore) throws -> MiMei? {
    try cli { try store.all() }.filter { $0.app == AppCommand.appType && $0.ext == name && $0.author == author }.min { $0.created < $1.created }
}

/// An app by MiMei ID, or by name among the apps held here (one name by several authors must be given by ID).
func resolveApp(_ text: String, options: GlobalOptions) throws -> MiMei {
    let store = try options.mimeiStore
    if text.hasPrefix("ld1"), let id = try? ID(text: text) {
        guard let mimei = try known(store, id) else { throw CLIError("no app \(text) here") }
        guard mimei.app == AppCommand.appType else { throw CLIError("\(text) is a MiMei of application type '\(mimei.app)', not an app") }
        return mimei
    }
    let named = try cli { try store.all() }.filter { $0.app == AppCommand.appType && $0.ext == text }
    guard let first = named.first else { throw CLIError("no app named \(text.prefix(64)) here; ledgerctl app show lists them") }
    guard named.count == 1 else { throw CLIError("\(named.count) apps are named \(text.prefix(64)); give the MiMei ID") }
    return first
}
