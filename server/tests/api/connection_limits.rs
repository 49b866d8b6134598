//! Connections cannot exhaust the server's file descriptors: a client address holds at most
//! `--max-connections-per-client` connections at once, all clients together at most
//! `--max-connections`, and an answer the client stops reading is given up once its write
//! has made no progress for `--body-read-timeout-seconds`.

use crate::helpers::*;
use server::auth::SystemClock;
use server::configuration::Config;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// The size of the stand-in for the site's WebAssembly: far more than the socket buffers
/// of both ends hold, so that a client that reads nothing stops the server's writes.
const WASM_BYTES: usize = 16 << 20;

/// Puts a large file where the site's WebAssembly is served from (open to anyone).
fn large_wasm(app: &TestApp) {
    let pkg = app.folder.path().join("site").join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("itsm-bridge.wasm"), vec![b'w'; WASM_BYTES]).unwrap();
}

/// A fresh application that nothing has connected to yet (a signed-in client would keep a
/// connection of its own open).
async fn untouched_app(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let folder = tempfile::tempdir().unwrap();
    let app = spawn_app_configured(folder, Arc::new(SystemClock), adjust).await;
    large_wasm(&app);
    app
}

fn server_address(app: &TestApp) -> SocketAddr {
    app.address.trim_start_matches("http://").parse().unwrap()
}

/// A connection from the loopback address `from` (any of 127.0.0.0/8 reaches the server),
/// with a small receive buffer.
async fn connect_from(app: &TestApp, from: Ipv4Addr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.bind(SocketAddr::new(from.into(), 0)).unwrap();
    socket.connect(server_address(app)).await.unwrap()
}

/// A client that asks for the WebAssembly and never reads the answer.
async fn greedy_client(app: &TestApp, from: Ipv4Addr) -> TcpStream {
    let mut stream = connect_from(app, from).await;
    let request = format!(
        "GET /pkg/itsm-bridge.wasm HTTP/1.1\r\nHost: {}\r\n\r\n",
        server_address(app)
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

/// Asks for `/healthz` on a kept-alive connection from `from`; the connection when it is
/// answered 200, `None` when the server closes it unanswered or refuses it.
async fn healthz_from(app: &TestApp, from: Ipv4Addr) -> Option<TcpStream> {
    let mut stream = connect_from(app, from).await;
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n",
        server_address(app)
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut answer = Vec::new();
    let mut piece = [0u8; 1024];
    // The status line is enough.
    while !answer.windows(2).any(|pair| pair == b"\r\n") {
        let read = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut piece))
            .await
            .expect("the server answers or closes within 20 s")
            .ok()?;
        if read == 0 {
            break;
        }
        answer.extend_from_slice(&piece[..read]);
    }
    answer.starts_with(b"HTTP/1.1 200").then_some(stream)
}

/// Reads what is left of a greedy client's answer until the server closes the connection
/// (end of file or reset); how many bytes came. Fails after 20 s of a connection still open.
async fn read_until_closed(mut stream: TcpStream) -> usize {
    let mut received = 0;
    let mut piece = vec![0u8; 1 << 16];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut piece))
            .await
            .expect("the server closed the connection whose answer was not read");
        match read {
            Ok(0) | Err(_) => return received,
            Ok(n) => received += n,
        }
    }
}

const CLIENT: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const FRESH_CLIENT: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
/// The default `--max-connections-per-client`.
const PER_CLIENT: usize = 64;

#[tokio::test]
async fn clients_that_never_read_a_large_answer_are_capped_per_address_and_cut_off() {
    let app = untouched_app(|c| c.body_read_timeout_seconds = 1).await;
    let mut greedy = Vec::new();
    for _ in 0..PER_CLIENT {
        greedy.push(greedy_client(&app, CLIENT).await);
    }

    // A client at another address is served as usual meanwhile.
    assert!(
        healthz_from(&app, FRESH_CLIENT).await.is_some(),
        "a fresh client was not answered"
    );

    // Once the greedy connections' writes have stalled for the timeout, they are closed: the
    // greedy address can hold as many connections at once as before, all answered. Until
    // then one more from it is refused (the cap), so this waits for their end.
    let mut held = Vec::new();
    let waiting = tokio::time::timeout(Duration::from_secs(30), async {
        while held.len() < PER_CLIENT {
            match healthz_from(&app, CLIENT).await {
                Some(stream) => held.push(stream),
                None => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    })
    .await;
    assert!(
        waiting.is_ok(),
        "the stalled connections still counted after 30 s"
    );

    // They were cut off: each got less than the whole answer, then the server closed it.
    for stream in greedy {
        let received = read_until_closed(stream).await;
        assert!(
            received < WASM_BYTES,
            "a whole answer came ({received} bytes)"
        );
    }
}

#[tokio::test]
async fn past_the_cap_in_all_a_new_client_waits_for_a_place_and_is_then_served() {
    let app = untouched_app(|c| {
        c.body_read_timeout_seconds = 1;
        c.max_connections = 4;
        // The fresh clients' kept-alive connections hold their places meanwhile.
        c.header_read_timeout_seconds = 120;
    })
    .await;
    let mut greedy = Vec::new();
    for _ in 0..4 {
        greedy.push(greedy_client(&app, CLIENT).await);
    }

    // Every place is taken; each fresh client waits for one (it is not refused), and gets it
    // once a greedy connection's write has stalled for the timeout. The fresh ones keep
    // their places, so four served means all four greedy ones were given up, whatever
    // order they stalled in.
    let mut served = Vec::new();
    for _ in 0..4 {
        served.push(
            healthz_from(&app, FRESH_CLIENT)
                .await
                .expect("a client past the cap was refused instead of waiting"),
        );
    }
    for stream in greedy {
        let received = read_until_closed(stream).await;
        assert!(
            received < WASM_BYTES,
            "a whole answer came ({received} bytes)"
        );
    }
}

#[test]
fn connections_are_capped_by_default() {
    let config = Config::with_database("unused.db");
    assert_eq!(config.max_connections, 512);
    assert_eq!(config.max_connections_per_client, 64);
}
