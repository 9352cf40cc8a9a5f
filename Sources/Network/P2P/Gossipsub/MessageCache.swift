/// Recent messages by ID, in heartbeat windows (gossipsub's mcache): the last `historyLength` windows are
/// kept to answer IWANT, the last `gossipLength` are announced in IHAVE. Pure: no I/O, no clock.
struct MessageCache {
    let historyLength: Int
    let gossipLength: Int
    private var messages: [[UInt8]: PubsubMessage] = [:]
    /// Per window, newest first: the IDs it added.
    private var windows: [[[UInt8]]]

    init(historyLength: Int = 5, gossipLength: Int = 3) {
        self.historyLength = max(1, historyLength)
        self.gossipLength = min(max(1, gossipLength), max(1, historyLength))
        windows = [[]]
    }

    mutating func put(_ message: PubsubMessage) {
        let id = message.id
        guard messages[id] == nil else { return }
        messages[id] = message
        windows[0].append(id)
    }

    func get(_ id: [UInt8]) -> PubsubMessage? { messages[id] }

    /// The IDs to announce for `topic`.
    func gossipIDs(topic: String) -> [[UInt8]] {
        windows.prefix(gossipLength).flatMap { $0 }.filter { messages[$0]?.topic == topic }
    }

    /// A heartbeat: a new window opens, the oldest beyond the history is forgotten.
    mutating func shift() {
        windows.insert([], at: 0)
        while windows.count > historyLength {
            for id in windows.removeLast() { messages[id] = nil }
        }
    }

    var count: Int { messages.count }
}
