//! A real export from the corpus, uploaded and `/import`ed into a
//! simulated router over the real API: every line lands, menus the
//! simulator does not model kept as they were given.

use routeros::{Client, ConnectOptions};
use routeros_sim::{SimConfig, SimFleet};

#[tokio::test]
async fn a_real_export_from_the_corpus_imports() {
    let export = std::fs::read(corpus_check::corpus_file("021")).expect("readable corpus file");
    let sim = SimFleet::start(SimConfig {
        devices: 1,
        password: "pw".into(),
        versions: vec!["7.16.2".into()],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let c = Client::connect(&ConnectOptions::new(
        "127.0.0.1",
        sim.port(0),
        "admin",
        "pw",
    ))
    .await
    .unwrap();
    c.upload_file("021.rsc", &export).await.unwrap();
    let report = c.import_file("021.rsc", false).await.unwrap();
    assert!(report.contains(", 0 not modelled"), "{report}");
    assert_eq!(sim.device(0).identity(), "MikroTik03");
    let ports = sim.device(0).items("interface/bridge/port");
    assert_eq!(ports.len(), 4);
    assert_eq!(ports[1].get_str("pvid").as_deref(), Some("10"));
}
