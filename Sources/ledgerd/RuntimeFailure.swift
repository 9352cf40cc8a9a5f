/// A failure while the command runs (a file, the database, a port), as opposed to a wrong command
/// line: ArgumentParser prints it as one line and exits 1, with no usage text (ValidationError would
/// print the usage and exit 64, as if the user had mistyped).
struct RuntimeFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
