/// The explorer's Mustache templates. Plain HTML and CSS, no JavaScript: every page works in any
/// browser and in a text-mode one. `{{ }}` escapes HTML, so ledger text (organization names) is safe.
enum Templates {
    static let layoutHead = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · ledgerd explorer</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
        header{background:#1d2430;color:#fff;padding:.6em 1.2em;display:flex;gap:1.5em;align-items:center;flex-wrap:wrap}
        header a{color:#fff;text-decoration:none;font-weight:600} main{padding:1em 1.2em;max-width:72em}
        table{border-collapse:collapse;background:#fff;margin:.5em 0 1.5em;width:100%}
        th,td{border:1px solid #dde1e7;padding:.35em .6em;text-align:left;font-size:.92em;vertical-align:top}
        th{background:#eef1f5} code,.mono{font-family:ui-monospace,monospace;font-size:.9em;word-break:break-all}
        dl{display:grid;grid-template-columns:max-content 1fr;gap:.3em 1em;background:#fff;padding:1em;border:1px solid #dde1e7}
        dt{font-weight:600} dd{margin:0} .verified{color:#17703a;font-weight:600} .mismatch{color:#b3261e;font-weight:600} .muted{color:#6b7480} form input[type=text]{width:28em;max-width:60vw;padding:.3em}
        </style></head><body>
        <header><a href="/">ledgerd explorer</a><a href="/network">Network</a><a href="/bookkeepers">Bookkeepers</a><span class="muted">chain {{chain}}</span>
        <form action="/search" method="get" role="search"><input type="text" name="q" placeholder="height, ID (ld1…) or hash" aria-label="search">
        <button type="submit">Search</button></form></header><main>
        """
    static let layoutFoot = "</main></body></html>"

    static let home = """
        {{> head}}
        <h1>Ledger</h1>
        <dl id="status"><dt>Height</dt><dd id="height">{{status.height}}</dd><dt>Pulse</dt><dd>{{status.pulse}} (latest block at pulse {{status.latest_pulse}})</dd>
        <dt>Node</dt><dd><a class="mono" href="/account/{{status.node_id}}">{{status.node_id}}</a></dd>
        <dt>Transactions</dt><dd>{{status.transactions}}</dd><dt>Pending</dt><dd>{{status.mempool}}</dd>
        <dt>State root</dt><dd class="mono">{{status.state_root}}</dd>
        {{#status.p2p_enabled}}<dt>Peers</dt><dd id="peers"><a href="/network">{{status.peers}} connected</a>{{#status.sync.syncing}}; catching up, {{status.sync.behind}} blocks behind{{/status.sync.syncing}}</dd>
        <dt>Peer ID</dt><dd class="mono">{{status.peer_id}}</dd>{{/status.p2p_enabled}}</dl>
        <h2>Latest blocks</h2>
        <table id="blocks"><tr><th>Height</th><th>Hash</th><th>Transactions</th><th>Time</th></tr>
        {{#blocks}}<tr><td><a href="/block/{{height}}">{{height}}</a></td><td class="mono"><a href="/block/{{hash}}">{{short}}</a></td><td>{{tx_count}}</td><td>{{time}}</td></tr>{{/blocks}}
        </table>
        <h2>Organizations</h2>
        <table id="organizations"><tr><th>Name</th><th>ID</th><th>Members</th></tr>
        {{#organizations}}<tr><td><a href="/org/{{id}}">{{name}}</a></td><td class="mono">{{id}}</td><td>{{member_count}}</td></tr>{{/organizations}}
        {{^organizations}}<tr><td colspan="3" class="muted">none yet — try <code>ledgerctl org create --name "My org"</code></td></tr>{{/organizations}}
        </table>
        {{> foot}}
        """

    static let bookkeepers = """
        {{> head}}
        <h1>Bookkeepers</h1>
        <p>The set that certifies the next block (hash <span class="mono">{{set.hash}}</span>), {{set.total_power}} voting power in all.
        A block is final with precommits from more than two thirds of it. Performance: the share of the last {{set.window}} blocks whose
        certificate holds the bookkeeper's precommit.</p>
        <table id="bookkeepers"><tr><th>Bookkeeper</th><th>Power</th><th>Proposed</th><th>Signed</th><th>Performance</th><th>Rewards and fees</th></tr>
        {{#set.bookkeepers}}<tr><td class="mono"><a href="/account/{{id}}">{{id}}</a>{{#chief}} (chief){{/chief}}</td><td>{{power}}</td><td>{{proposed}}</td><td>{{signed}}</td><td>{{performance}}</td><td>{{rewards}}</td></tr>{{/set.bookkeepers}}
        </table>
        <h2>Slashing history</h2>
        <table id="slashed"><tr><th>Bookkeeper</th><th>Equivocated at</th><th>Excluded by block</th><th>Bond burnt</th></tr>
        {{#set.slashed}}<tr><td class="mono"><a href="/account/{{bookkeeper}}">{{bookkeeper}}</a></td><td>height {{height}}, round {{round}}</td><td><a href="/block/{{excluded_at}}">{{excluded_at}}</a></td><td>{{burnt}}</td></tr>{{/set.slashed}}
        {{^set.slashed}}<tr><td colspan="4" class="muted">no one has equivocated</td></tr>{{/set.slashed}}
        </table>
        <h2>Next election</h2>
        {{#set.election}}<p id="next-election">At the first block from pulse <b>{{next_pulse}}</b> (every {{cycle_pulses}} pulses; cycle {{cycle}} is being counted):
        the {{seats}} best bonded candidates by bond × performance are elected. Performance is the share of the certificates a member could
        have signed this cycle that hold its precommit; below {{performance_min_percent}} % it is not re-elected. A bond is at least {{bond_minimum}};
        an unbonded amount is paid back after {{unbond_delay_pulses}} pulses; evidence burns {{slash_percent}} %.</p>
        <table id="candidates"><tr><th>Candidate</th><th>Bonded</th><th>Unbonding</th><th>Performance this cycle</th><th>Stands</th></tr>
        {{#candidates}}<tr><td class="mono"><a href="/account/{{id}}">{{id}}</a></td><td>{{bonded}}</td><td>{{unbonding}}</td><td>{{performance}} ({{signed}} of {{heights}})</td><td>{{#would_be_elected}}elected if it were now{{/would_be_elected}}{{^would_be_elected}}{{#eligible}}not in the top {{seats}}{{/eligible}}{{^eligible}}absent too often{{/eligible}}{{/would_be_elected}}</td></tr>{{/candidates}}
        {{^candidates}}<tr><td colspan="5" class="muted">no bond stands: the set stays as it is — try <code>ledgerctl bookkeeper bond --amount {{bond_minimum}}</code></td></tr>{{/candidates}}
        </table>{{/set.election}}
        <h2>Latest blocks</h2>
        <table id="recent"><tr><th>Height</th><th>Round</th><th>Proposer</th><th>Signed by</th></tr>
        {{#set.recent}}<tr><td><a href="/block/{{height}}">{{height}}</a></td><td>{{round}}</td><td class="mono"><a href="/account/{{proposer}}">{{proposer}}</a></td><td class="mono">{{#signers}}<a href="/account/{{.}}">{{.}}</a> {{/signers}}</td></tr>{{/set.recent}}
        {{^set.recent}}<tr><td colspan="4" class="muted">no block yet — submit a transaction and the bookkeepers decide it at the next pulse</td></tr>{{/set.recent}}
        </table>
        {{> foot}}
        """

    static let network = """
        {{> head}}
        <h1>Network</h1>
        <dl><dt>Peer ID</dt><dd class="mono">{{local.peer_id}}</dd><dt>Ledger ID</dt><dd class="mono"><a href="/account/{{local.ledger_id}}">{{local.ledger_id}}</a></dd>
        {{#local.addresses}}<dt>Address</dt><dd class="mono">{{.}}</dd>{{/local.addresses}}</dl>
        <h2>Connected peers</h2>
        <table id="peers"><tr><th>Peer</th><th>Address</th><th>Direction</th><th>In</th><th>Out</th><th>Agent</th></tr>
        {{#peers}}<tr><td class="mono"><a href="/peer/{{peer_id}}">{{peer_id}}</a>{{#ledger_id}} (<a href="/account/{{ledger_id}}">account</a>){{/ledger_id}}</td><td class="mono">{{address}}</td><td>{{direction}}</td><td>{{in}}</td><td>{{out}}</td><td>{{agent}}</td></tr>{{/peers}}
        {{^peers}}<tr><td colspan="6" class="muted">none — join a network with <code>ledgerd run --bootstrap /ip4/…/tcp/…/p2p/…</code></td></tr>{{/peers}}
        </table>
        {{#has_banned}}<h2>Banned</h2>
        <table id="banned"><tr><th>Peer</th><th>Reason</th></tr>
        {{#banned}}<tr><td class="mono">{{peer_id}}</td><td>{{reason}}</td></tr>{{/banned}}
        </table>{{/has_banned}}
        {{> foot}}
        """

    static let peer = """
        {{> head}}
        <h1>Peer</h1>
        <dl><dt>Peer ID</dt><dd class="mono">{{peer}}</dd>{{#ledger_id}}<dt>Ledger ID</dt><dd class="mono"><a href="/account/{{ledger_id}}">{{ledger_id}}</a></dd>{{/ledger_id}}</dl>
        <h2>Served to it</h2>
        {{{served_svg}}}
        <h2>Received from it</h2>
        {{{received_svg}}}
        <h2>By service</h2>
        <table id="services"><tr><th>Service</th><th>Served</th><th>Received</th></tr>
        {{#services}}<tr><td>{{service}}</td><td>{{served}}</td><td>{{received}}</td></tr>{{/services}}
        </table>
        <h2>Credit</h2>
        {{#line}}<p id="credit">This node grants it {{limit_display}}; it owes {{owed_display}}.</p>{{/line}}
        {{^line}}<p id="credit" class="muted">No letter of credit from this node.</p>{{/line}}
        {{{credit_svg}}}
        <h2>Settlements</h2>
        <table id="settlements"><tr><th>ID</th><th>Provider</th><th>Consumer</th><th>Units</th><th>Value</th><th>State</th></tr>
        {{#settlements}}<tr><td class="mono">{{id}}</td><td class="mono">{{provider}}</td><td class="mono">{{consumer}}</td><td>{{units}}</td><td>{{value_display}}</td><td>{{#pending}}pending{{/pending}}{{^pending}}final{{/pending}}</td></tr>{{/settlements}}
        </table>
        {{> foot}}
        """

    static let block = """
        {{> head}}
        <h1>Block {{block.height}}</h1>
        <dl><dt>Hash</dt><dd class="mono">{{block.hash}}</dd><dt>CID</dt><dd class="mono">{{block.cid}}</dd>
        <dt>Previous</dt><dd class="mono">{{#previous_height}}<a href="/block/{{previous_height}}">{{block.previous}}</a>{{/previous_height}}{{^previous_height}}{{block.previous}}{{/previous_height}}</dd>
        <dt>Pulse</dt><dd>{{block.pulse}}</dd><dt>Time</dt><dd>{{time}}</dd>
        <dt>Proposer</dt><dd class="mono"><a href="/account/{{block.proposer}}">{{block.proposer}}</a></dd>
        <dt>Transaction root</dt><dd class="mono">{{block.tx_root}}</dd><dt>State root</dt><dd class="mono">{{block.state_root}}</dd></dl>
        <h2>Transactions ({{block.tx_count}})</h2>
        <table id="transactions"><tr><th>ID</th><th>Type</th><th>Origin</th></tr>
        {{#block.transactions}}<tr><td class="mono"><a href="/tx/{{id}}">{{id}}</a></td><td>{{type}}</td><td class="mono"><a href="/account/{{origin}}">{{origin}}</a></td></tr>{{/block.transactions}}
        </table>
        <h2>Commit certificate</h2>
        {{#block.commit}}<p id="decided">Decided in round {{round}} by {{precommit_count}} precommits (certificate {{hash}}).</p>
        <table id="precommits"><tr><th>Bookkeeper</th><th>Time (ms)</th><th>Signature</th></tr>
        {{#votes}}<tr><td class="mono"><a href="/account/{{bookkeeper}}">{{bookkeeper}}</a></td><td>{{time_ms}}</td><td class="mono">{{signature}}</td></tr>{{/votes}}
        </table>{{/block.commit}}{{^block.commit}}<p>Block 0 needs no certificate: the genesis file makes it.</p>{{/block.commit}}
        <h2>Paid to the bookkeepers</h2>
        <p id="rewards">{{block.rewards.minted}} minted and {{block.rewards.fees}} in fees, shared by power among those who signed the previous block's certificate (the rest to the proposer).</p>
        <table id="shares"><tr><th>Bookkeeper</th><th>Amount</th></tr>
        {{#block.rewards.shares}}<tr><td class="mono"><a href="/account/{{bookkeeper}}">{{bookkeeper}}</a></td><td>{{amount}}</td></tr>{{/block.rewards.shares}}
        </table>
        {{> foot}}
        """

    static let transaction = """
        {{> head}}
        <h1>Transaction</h1>
        <dl><dt>ID</dt><dd class="mono">{{tx.id}}</dd><dt>Type</dt><dd id="type">{{tx.type}}</dd>
        <dt>Block</dt><dd><a href="/block/{{tx.height}}">{{tx.height}}</a> (position {{tx.position}})</dd>
        <dt>Nonce</dt><dd>{{tx.nonce}}</dd><dt>Expires at pulse</dt><dd>{{tx.expiry}}</dd></dl>
        <h2>Signers</h2>
        <table id="signers"><tr><th>Account</th><th>Public key</th></tr>
        {{#tx.signers}}<tr><td class="mono"><a href="/account/{{id}}">{{id}}</a></td><td class="mono">{{public_key}}</td></tr>{{/tx.signers}}
        </table>
        <h2>Body</h2>
        <table id="body"><tr><th>Field</th><th>Value</th></tr>
        {{#fields}}<tr><td>{{name}}</td><td class="mono">{{#link}}<a href="{{link}}">{{value}}</a>{{/link}}{{^link}}{{value}}{{/link}}</td></tr>{{/fields}}
        </table>
        {{> foot}}
        """

    static let account = """
        {{> head}}
        <h1>Account</h1>
        <dl><dt>ID</dt><dd class="mono" id="account-id">{{account.id}}</dd><dt>Balance</dt><dd id="balance">{{account.balance_display}} ({{account.balance}} bytes)</dd>
        <dt>Nonce</dt><dd>{{account.nonce}}</dd>
        {{#account.organization}}<dt>Organization</dt><dd><a href="/org/{{id}}">{{name}}</a> (this ID is an organization)</dd>{{/account.organization}}</dl>
        <h2>Organizations</h2>
        <table id="memberships"><tr><th>Organization</th><th>Role</th><th>Since block</th></tr>
        {{#account.organizations}}<tr><td class="mono"><a href="/org/{{organization}}">{{organization}}</a></td><td>{{role}}</td><td>{{since_height}}</td></tr>{{/account.organizations}}
        {{^account.organizations}}<tr><td colspan="3" class="muted">none</td></tr>{{/account.organizations}}
        </table>
        <h2>Credit given <a class="muted" href="/graph/{{account.id}}">(credit graph)</a></h2>
        <table id="credit-given"><tr><th>To</th><th>Limit</th><th>Owed to this account</th><th>Expires at pulse</th><th>Active</th></tr>
        {{#account.credit_given}}<tr><td class="mono"><a href="/account/{{to}}">{{to}}</a></td><td>{{limit_display}}</td><td>{{owed_display}}</td><td>{{expiry}}</td><td>{{active}}</td></tr>{{/account.credit_given}}
        {{^account.credit_given}}<tr><td colspan="5" class="muted">none</td></tr>{{/account.credit_given}}
        </table>
        <h2>Credit received</h2>
        <table id="credit-received"><tr><th>From</th><th>Limit</th><th>Owed by this account</th><th>Expires at pulse</th><th>Active</th></tr>
        {{#account.credit_received}}<tr><td class="mono"><a href="/account/{{from}}">{{from}}</a></td><td>{{limit_display}}</td><td>{{owed_display}}</td><td>{{expiry}}</td><td>{{active}}</td></tr>{{/account.credit_received}}
        {{^account.credit_received}}<tr><td colspan="5" class="muted">none</td></tr>{{/account.credit_received}}
        <h2>IOUs</h2>
        <table id="ious"><tr><th>IOU</th><th>Borrower</th><th>Holder</th><th>Outstanding</th><th>Memo</th></tr>
        {{#account.ious}}<tr><td class="mono">{{id}}</td><td class="mono"><a href="/account/{{borrower}}">{{borrower}}</a></td><td class="mono"><a href="/account/{{holder}}">{{holder}}</a></td><td>{{outstanding_display}}</td><td>{{memo}}</td></tr>{{/account.ious}}
        {{^account.ious}}<tr><td colspan="5" class="muted">none</td></tr>{{/account.ious}}
        <h2>Settlements</h2>
        <table id="settlements"><tr><th>Provider</th><th>Consumer</th><th>Service</th><th>Receipt</th><th>Settled</th><th>Publicity window</th></tr>
        {{#account.settlements}}<tr><td class="mono"><a href="/account/{{provider}}">{{provider}}</a></td><td class="mono"><a href="/account/{{consumer}}">{{consumer}}</a></td><td>{{service}}</td><td>#{{sequence}}, {{units}} units</td><td>{{value_display}}</td><td>{{#in_window}}open until pulse {{window_end}}{{/in_window}}{{^in_window}}closed{{/in_window}}</td></tr>{{/account.settlements}}
        {{^account.settlements}}<tr><td colspan="6" class="muted">none</td></tr>{{/account.settlements}}
        <h2>Contracts</h2>
        <table id="contracts"><tr><th>Contract</th><th>Kind</th><th>Parties</th><th>State</th></tr>
        {{#account.contracts}}<tr><td class="mono">{{id}}</td><td>{{kind}}</td><td class="mono">{{payer}}{{client}} → {{provider}}{{relay}}</td><td>{{#ended}}ended{{/ended}}{{^ended}}open{{/ended}}</td></tr>{{/account.contracts}}
        {{^account.contracts}}<tr><td colspan="4" class="muted">none</td></tr>{{/account.contracts}}
        </table>
        <h2>Transactions</h2>
        <table id="history"><tr><th>Transaction</th><th>Type</th><th>Block</th></tr>
        {{#account.transactions}}<tr><td class="mono"><a href="/tx/{{id}}">{{id}}</a></td><td>{{type}}</td><td><a href="/block/{{height}}">{{height}}</a></td></tr>{{/account.transactions}}
        {{^account.transactions}}<tr><td colspan="3" class="muted">none</td></tr>{{/account.transactions}}
        </table>
        {{> foot}}
        """

    static let organization = """
        {{> head}}
        <h1 id="org-name">{{org.name}}</h1>
        <p>{{org.description}}</p>
        <dl><dt>ID</dt><dd class="mono">{{org.id}}</dd><dt>Founder</dt><dd class="mono"><a href="/account/{{org.founder}}">{{org.founder}}</a></dd>
        <dt>Created in block</dt><dd><a href="/block/{{org.created_height}}">{{org.created_height}}</a></dd>
        <dt>Members</dt><dd>{{org.member_count}} ({{org.supervisor_count}} supervisors)</dd></dl>
        <h2>Members and roles</h2>
        <table id="members"><tr><th>Person</th><th>Role</th><th>Since block</th></tr>
        {{#org.members}}<tr><td class="mono"><a href="/account/{{person}}">{{person}}</a></td><td>{{role}}</td><td>{{since_height}}</td></tr>{{/org.members}}
        </table>
        {{#org.governance}}
        <h2>Consensus contract (version {{org.contract.version}})</h2>
        <p id="contract-summary">{{org.contract.summary}}; the rest and every rounding remainder to <a class="mono" href="/account/{{remainder}}">{{remainder}}</a>.</p>
        <table id="contract-history"><tr><th>Version</th><th>Adopted in block</th><th>Rules</th></tr>
        {{#org.contract_history}}<tr><td>{{version}}</td><td><a href="/block/{{adopted_height}}">{{adopted_height}}</a></td><td>{{summary}}</td></tr>{{/org.contract_history}}
        </table>
        <p>Newcomers need {{approvals}} supervisor approval(s); votes are weighted per {{voting}}; {{income_count}} income events, {{income_total_display}} in all;
        <a id="csv" href="/api/v1/organizations/{{org.id}}/dividends.csv">dividends as CSV</a>.</p>
        <h2>Income over time</h2>
        {{{income_chart}}}
        <h2>Dividends by member</h2>
        {{{dividend_chart}}}
        <table id="dividends"><tr><th>Person</th><th>Received</th><th>Events</th></tr>
        {{#org.dividends}}<tr><td class="mono"><a href="/account/{{person}}">{{person}}</a></td><td>{{total_display}}</td><td>{{events}}</td></tr>{{/org.dividends}}
        {{^org.dividends}}<tr><td colspan="3" class="muted">no income yet</td></tr>{{/org.dividends}}
        </table>
        <h2>Income events and audit</h2>
        <table id="income"><tr><th>Event</th><th>Block</th><th>Amount</th><th>Reference</th><th>Contract</th><th>Recipients</th><th>Audit</th></tr>
        {{#events}}<tr><td><a href="/org/{{organization}}/income/{{sequence}}">#{{sequence}}</a></td><td><a href="/block/{{height}}">{{height}}</a></td><td>{{amount_display}}</td><td>{{reference}}</td><td>v{{contract_version}}</td><td>{{payout_count}}</td><td class="{{audit_class}}">{{audit_text}}</td></tr>{{/events}}
        {{^events}}<tr><td colspan="7" class="muted">no income yet — try <code>ledgerctl org income {{org.id}} --amount 1MiB</code></td></tr>{{/events}}
        </table>
        <h2>Token holders ({{org.token_holder_count}})</h2>
        <table id="holders"><tr><th>Holder</th><th>Tokens</th></tr>
        {{#org.token_holders}}<tr><td class="mono"><a href="/account/{{holder}}">{{holder}}</a></td><td>{{balance}}</td></tr>{{/org.token_holders}}
        {{^org.token_holders}}<tr><td colspan="2" class="muted">no tokens issued yet</td></tr>{{/org.token_holders}}
        </table>
        <h2>Proposals</h2>
        <table id="proposals"><tr><th>#</th><th>Type</th><th>Yes / no of eligible</th><th>Deadline (pulse)</th><th>Status</th></tr>
        {{#org.proposals}}<tr><td>{{sequence}}</td><td>{{type}}</td><td>{{yes}} / {{no}} of {{eligible}}</td><td>{{deadline}}</td><td>{{status}}</td></tr>{{/org.proposals}}
        {{^org.proposals}}<tr><td colspan="5" class="muted">none</td></tr>{{/org.proposals}}
        </table>
        {{/org.governance}}
        {{> foot}}
        """

    static let graph = """
        {{> head}}
        <h1>Credit around <span class="mono">{{center_short}}</span></h1>
        <p class="muted">Arrows run from the node granting credit to the node it trusts; labels give the limit and, after the slash, what is owed.
        <a href="/account/{{center}}">Back to the account</a>.</p>
        {{{svg}}}
        <table id="edges"><tr><th>From</th><th>To</th><th>Limit</th><th>Owed</th></tr>
        {{#edges}}<tr><td class="mono"><a href="/graph/{{from}}">{{from}}</a></td><td class="mono"><a href="/graph/{{to}}">{{to}}</a></td><td>{{limit_display}}</td><td>{{owed_display}}</td></tr>{{/edges}}
        {{^edges}}<tr><td colspan="4" class="muted">no credit lines</td></tr>{{/edges}}
        </table>
        {{> foot}}
        """

    static let incomeEvent = """
        {{> head}}
        <h1>Income event #{{event.sequence}} of <a href="/org/{{event.organization}}">{{org_name}}</a></h1>
        <dl><dt>Amount</dt><dd>{{event.amount_display}} ({{event.amount}} bytes)</dd><dt>Paid by</dt><dd class="mono"><a href="/account/{{event.payer}}">{{event.payer}}</a></dd>
        <dt>Reference</dt><dd>{{event.reference}}</dd><dt>Block</dt><dd><a href="/block/{{event.height}}">{{event.height}}</a></dd>
        <dt>Contract</dt><dd>version {{event.contract_version}}</dd><dt>Remainder</dt><dd>{{event.remainder}} bytes</dd></dl>
        <h2>Split</h2>
        <table id="split"><tr><th>Recipient</th><th>Amount</th><th>Share</th></tr>
        {{#event.payouts}}<tr><td class="mono"><a href="/account/{{recipient}}">{{recipient}}</a></td><td>{{amount_display}} ({{amount}})</td><td>{{share_ppm}} ppm</td></tr>{{/event.payouts}}
        </table>
        <h2>Audit</h2>
        <p id="audit-result" class="{{audit_class}}">{{audit_text}}</p>
        <dl><dt>Recorded payout root</dt><dd class="mono">{{event.payout_root}}</dd><dt>Recomputed root</dt><dd class="mono">{{event.audit.recomputed_root}}</dd>
        <dt>Adds up to the income</dt><dd>{{event.audit.adds_up}}</dd><dt>Event proven in block {{event.height}}'s state</dt><dd>{{event.audit.event_proven}}</dd>
        <dt>State root</dt><dd class="mono">{{event.audit.state_root}}</dd><dt>State proof</dt><dd class="mono">{{event.audit.proof}}</dd></dl>
        <h3>Recipients' balances after block {{event.height}}, proven against its state root</h3>
        <table id="balance-proofs"><tr><th>Recipient</th><th>Balance</th><th>Proof</th></tr>
        {{#event.balance_proofs}}<tr><td class="mono"><a href="/account/{{recipient}}">{{recipient}}</a></td><td>{{balance_display}}</td><td>{{#proven}}<span class="verified">proven</span>{{/proven}}{{^proven}}<span class="mismatch">NOT proven</span>{{/proven}}</td></tr>{{/event.balance_proofs}}
        </table>
        {{> foot}}
        """

    static let message = """
        {{> head}}
        <h1>{{heading}}</h1>
        <p id="message">{{message}}</p>
        <p><a href="/">Back to the latest blocks</a></p>
        {{> foot}}
        """
}
