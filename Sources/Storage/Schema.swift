/// The SQLite schema of a ledger database (specs/storage.md describes it for operators).
enum Schema {
    /// "LDGD": SQLite's application_id marks the file as ours, so a foreign database is refused.
    static let applicationID: Int64 = 0x4C44_4744
    static let version: Int64 = 1

    static let create = """
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        -- Append-only: one row per block, the whole block encoding zstd-compressed.
        CREATE TABLE blocks(
            height INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, header BLOB NOT NULL,
            body BLOB NOT NULL, tx_count INTEGER NOT NULL, time INTEGER NOT NULL);
        CREATE TABLE transactions(
            id BLOB PRIMARY KEY, height INTEGER NOT NULL, position INTEGER NOT NULL,
            type TEXT NOT NULL, origin BLOB NOT NULL) WITHOUT ROWID;
        -- Every account a transaction names (signers and IDs in its body), for account histories.
        CREATE TABLE transaction_accounts(account BLOB NOT NULL, height INTEGER NOT NULL, id BLOB NOT NULL,
            PRIMARY KEY(account, height, id)) WITHOUT ROWID;
        -- State tree nodes by hash; a node's bytes are its hash preimage. Shared between versions.
        CREATE TABLE tree_nodes(hash BLOB PRIMARY KEY, node BLOB NOT NULL) WITHOUT ROWID;
        -- Leaf values by version: a row per change, NULL when the key was removed at that height.
        CREATE TABLE state_values(key BLOB NOT NULL, height INTEGER NOT NULL, value BLOB,
            PRIMARY KEY(key, height)) WITHOUT ROWID;
        -- The latest state's records by kind and the IDs they relate, for explorer queries.
        CREATE TABLE state_index(key BLOB PRIMARY KEY, kind TEXT NOT NULL, first BLOB, second BLOB) WITHOUT ROWID;
        CREATE INDEX state_index_first ON state_index(kind, first);
        CREATE INDEX state_index_second ON state_index(kind, second);
        -- Each organization income event's payouts, recomputed by the node from the state before its
        -- block when the block is stored: the explorer's split tables and CSV export.
        CREATE TABLE distributions(org BLOB NOT NULL, sequence INTEGER NOT NULL, recipient BLOB NOT NULL, amount INTEGER NOT NULL,
            height INTEGER NOT NULL, PRIMARY KEY(org, sequence, recipient)) WITHOUT ROWID;
        """
}
