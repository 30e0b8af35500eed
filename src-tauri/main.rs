fn main() { fleetdeck_app::run() }
