//! `storage.fsync`: what each setting forces to the disk before a PUT is answered, counted by
//! tracing the real binary's fsync calls with strace.

mod support;

use bytes::Bytes;
use support::process::{strace_available, Server};
use support::send_to;

/// Starts a traced server with `fsync`, creates a bucket and PUTs one nested key, and returns
/// how many fsync/fdatasync calls the server made.
async fn fsync_calls(fsync: &str) -> usize {
    let work = tempfile::tempdir().expect("temp dir");
    let config = work.path().join("config.json");
    std::fs::write(&config, format!(r#"{{"storage":{{"fsync":"{fsync}"}}}}"#)).expect("config");
    let log = work.path().join("strace.log");
    let trace = vec![
        "-e".to_string(),
        "trace=fsync,fdatasync".to_string(),
        "-o".to_string(),
        log.display().to_string(),
    ];
    let server = Server::start(&work.path().join("store"), &config, Some(trace));
    for (target, body) in [("/bkt", ""), ("/bkt/dir/key", "durable bytes")] {
        let reply = send_to(server.addr, "PUT", target, &[], Bytes::from(body))
            .await
            .expect("answered");
        assert_eq!(
            reply.status.as_u16(),
            200,
            "PUT {target} with fsync {fsync}"
        );
    }
    let reply = send_to(server.addr, "GET", "/bkt/dir/key", &[], Bytes::new())
        .await
        .expect("answered");
    assert_eq!(reply.text(), "durable bytes");
    // strace has written everything once the traced server is gone.
    server.kill();
    let text = std::fs::read_to_string(&log).expect("strace log");
    text.lines()
        .filter(|l| l.contains("fsync(") || l.contains("fdatasync("))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fsync_setting_syncs_what_it_says() {
    assert!(
        strace_available(),
        "this test counts system calls with strace (scripts/ensure-test-tools.mjs installs it)"
    );
    let none = fsync_calls("none").await;
    let data = fsync_calls("data").await;
    let full = fsync_calls("full").await;
    assert_eq!(none, 0, "fsync none syncs nothing");
    assert!(
        data >= 1,
        "fsync data syncs the object's data file ({data} calls)"
    );
    // Full also syncs the bucket settings, the record and the directories renamed into.
    assert!(
        full >= data + 3,
        "fsync full syncs records and directories ({full} vs {data})"
    );
}
