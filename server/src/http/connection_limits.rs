//! How many connections the server serves at once: each holds a socket (a file descriptor),
//! and a process that runs out of them can no longer accept, nor open its database files.
//!
//! - At most `--max-connections` in all. Past it the serve loop stops accepting until one
//!   ends: newcomers wait in the kernel's accept queue (a browser waits, then is served)
//!   instead of being refused, and waiting costs the process no descriptor. The connections
//!   that hold the places cannot keep them long: headers, bodies and writes all time out.
//! - At most `--max-connections-per-client` from one client network: an IPv4 address, or an
//!   IPv6 /64 (one customer usually has a whole /64), `::ffff:a.b.c.d` counting as
//!   `a.b.c.d`, as for the sign-in throttle. It is the socket's address that counts (a
//!   header naming the client could say anything). Past it the connection is accepted and
//!   closed at once, after a short 503, so that one client cannot take all the places.
//!
//! Not tower's `ConcurrencyLimit`: that bounds requests inside one service, not the sockets
//! the accept loop holds, and knows no client.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct ConnectionLimits {
    places: Arc<Semaphore>,
    per_client: usize,
    /// Connections open per client network; a network with none is not kept.
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// A place among `--max-connections`, held while the connection lasts.
pub struct Place {
    _permit: OwnedSemaphorePermit,
}

/// One of a client network's connections, counted until it is dropped.
pub struct ClientConnection {
    network: IpAddr,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl ConnectionLimits {
    pub fn new(max_connections: usize, max_per_client: usize) -> Self {
        Self {
            places: Arc::new(Semaphore::new(max_connections)),
            per_client: max_per_client,
            open: Arc::default(),
        }
    }

    /// Waits until fewer than `--max-connections` are open.
    pub async fn place(&self) -> Place {
        let permit = self.places.clone().acquire_owned().await;
        Place {
            _permit: permit.expect("the connection semaphore is never closed"),
        }
    }

    /// Counts a new connection from `address`; `None` when its network has as many as it
    /// may.
    pub fn admit(&self, address: IpAddr) -> Option<ClientConnection> {
        let network = network(address);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(network).or_default();
        if *count >= self.per_client {
            return None;
        }
        *count += 1;
        Some(ClientConnection {
            network,
            open: self.open.clone(),
        })
    }
}

impl Drop for ClientConnection {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.network) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.network);
            }
        }
    }
}

/// The network an address counts for: an IPv4 address, or the /64 of an IPv6 address.
fn network(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

/// What a connection past its network's cap is told before it is closed.
pub const TOO_MANY_FROM_CLIENT: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Length: 73\r\nConnection: close\r\n\r\n\
Too many connections from your address at once; close some and try again.";

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_network_holds_at_most_its_share_and_gets_it_back_as_connections_end() {
        let limits = ConnectionLimits::new(100, 2);
        let first = limits.admit(ip("2001:db8::1")).unwrap();
        let _second = limits.admit(ip("2001:db8::2")).unwrap();
        // The same /64: refused; another /64 or an IPv4 address: admitted.
        assert!(limits.admit(ip("2001:db8::ffff")).is_none());
        assert!(limits.admit(ip("2001:db8:0:1::1")).is_some());
        assert!(limits.admit(ip("203.0.113.7")).is_some());
        drop(first);
        assert!(limits.admit(ip("2001:db8::3")).is_some());
    }

    #[test]
    fn an_ipv4_mapped_address_counts_as_its_ipv4_address() {
        let limits = ConnectionLimits::new(100, 1);
        let _held = limits.admit(ip("203.0.113.7")).unwrap();
        assert!(limits.admit(ip("::ffff:203.0.113.7")).is_none());
    }

    #[test]
    fn the_refusal_declares_its_length() {
        let text = std::str::from_utf8(TOO_MANY_FROM_CLIENT).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
    }
}
