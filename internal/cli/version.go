package cli

// version is reported by `signpost version` and the monitor's /api/version.
const version = "0.1.0-dev"
