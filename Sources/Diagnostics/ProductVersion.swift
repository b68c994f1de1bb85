/// The version of this build, shared by the CLI, the daemons and the traffic-manager (one
/// release ships all of them, so a client and the manager it installs agree).
public enum ProductVersion {
    public static let current = "0.1.0-dev"
}
