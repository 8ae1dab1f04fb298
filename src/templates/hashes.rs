//! The deterministic names templates make: `uniqueString` and `guid` give Azure's values for
//! the same inputs, so that a name computed against azemu is the one Azure would compute.

/// Multipliers of the 64-bit MurmurHash variant behind `uniqueString`.
const M1: u32 = 0xab0e_9789;
const M2: u32 = 0x239b_961b;
const MIX1: u32 = 0x85eb_ca6b;
const MIX2: u32 = 0xc2b2_ae35;

fn little_endian(bytes: &[u8]) -> u32 {
    bytes.iter().rev().fold(0, |word, b| (word << 8) | u32::from(*b))
}

fn scramble_low(k: u32) -> u32 {
    k.wrapping_mul(M2).rotate_left(15).wrapping_mul(M1)
}

fn scramble_high(k: u32) -> u32 {
    k.wrapping_mul(M1).rotate_left(17).wrapping_mul(M2)
}

fn avalanche(mut h: u32) -> u32 {
    h = (h ^ (h >> 16)).wrapping_mul(MIX1);
    h = (h ^ (h >> 13)).wrapping_mul(MIX2);
    h ^ (h >> 16)
}

/// The 64-bit hash `uniqueString` encodes: two 32-bit lanes over 8-byte blocks, seed 0.
fn murmur64(data: &[u8]) -> u64 {
    let (mut h1, mut h2) = (0u32, 0u32);
    let mut blocks = data.chunks_exact(8);
    for block in &mut blocks {
        h1 ^= scramble_low(little_endian(&block[..4]));
        h1 = h1.rotate_left(19).wrapping_add(h2).wrapping_mul(5).wrapping_add(0x561c_cd1b);
        h2 ^= scramble_high(little_endian(&block[4..]));
        h2 = h2.rotate_left(13).wrapping_add(h1).wrapping_mul(5).wrapping_add(0x0bca_a747);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        h1 ^= scramble_low(little_endian(&tail[..tail.len().min(4)]));
        if tail.len() > 4 {
            h2 ^= scramble_high(little_endian(&tail[4..]));
        }
    }
    let length = data.len() as u32;
    h2 ^= length;
    h1 = (h1 ^ length).wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = avalanche(h1);
    h2 = avalanche(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (u64::from(h2) << 32) | u64::from(h1)
}

/// `uniqueString(a, b, …)`: the hash of the arguments joined by `-`, as 13 characters of
/// lower-case base 32, most significant bits first.
pub fn unique_string(parts: &[&str]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut hash = murmur64(parts.join("-").as_bytes());
    (0..13)
        .map(|_| {
            let digit = (hash >> 59) as usize;
            hash <<= 5;
            ALPHABET[digit] as char
        })
        .collect()
}

/// ARM's namespace for `guid()`.
const GUID_NAMESPACE: uuid::Uuid = uuid::uuid!("11fb06fb-712d-4ddd-98c7-e71bbd588830");

/// `guid(a, b, …)`: the name-based (SHA-1, version 5) UUID of the arguments joined by `-`, in
/// ARM's namespace.
pub fn guid(parts: &[&str]) -> String {
    uuid::Uuid::new_v5(&GUID_NAMESPACE, parts.join("-").as_bytes()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Input and output pairs published from Azure's own `uniqueString`.
    #[test]
    fn unique_string_gives_azures_values() {
        assert_eq!(unique_string(&["test"]), "rbgf3xv4ufgzg");
        assert_eq!(unique_string(&["hello", "world"]), "a7wkljktk6wne");
        assert_eq!(unique_string(&["abc"]), "cgtzqvhu4i23s");
        assert_eq!(unique_string(&["foo", "bar", "baz"]), "xzi4ioaxtmth4");
        assert_eq!(
            unique_string(&["/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg"]),
            "bmg7c6xu4tw46"
        );
    }

    /// Checked against RFC 4122's version-5 construction as another implementation computes it.
    #[test]
    fn guid_is_a_version_5_uuid_in_arms_namespace() {
        assert_eq!(guid(&["a", "b", "c"]), "a98fa280-e03f-5afa-8d8e-92d0a9c201e8");
        assert_eq!(
            guid(&["/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg"]),
            "bb733f78-f75f-5345-b2b1-ca384ca6fcab"
        );
    }
}
