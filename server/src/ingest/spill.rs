//! Items put aside on disk, not in memory, until what they lack is known: the Trivy parser
//! keeps here the findings it read before their report named its artifact (or their
//! result its target), so that no part of a report is ever held in memory whole.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::marker::PhantomData;

/// A queue of `T` in an unnamed temporary file (deleted when closed, even on a crash), made
/// only once something is put aside: the common case never touches the disk.
pub struct Spill<T> {
    file: Option<BufWriter<File>>,
    len: usize,
    kind: PhantomData<T>,
}

impl<T> Default for Spill<T> {
    fn default() -> Self {
        Self {
            file: None,
            len: 0,
            kind: PhantomData,
        }
    }
}

impl<T: Serialize + DeserializeOwned> Spill<T> {
    /// Puts `item` aside, one JSON line.
    pub fn push(&mut self, item: &T) -> io::Result<()> {
        let file = match &mut self.file {
            Some(file) => file,
            None => self.file.insert(BufWriter::new(tempfile::tempfile()?)),
        };
        serde_json::to_writer(&mut *file, item)?;
        file.write_all(b"\n")?;
        self.len += 1;
        Ok(())
    }

    /// Hands every item put aside to `each`, in order, and empties the queue.
    pub fn drain(&mut self, mut each: impl FnMut(T) -> io::Result<()>) -> io::Result<()> {
        if self.len == 0 {
            return Ok(());
        }
        let Some(writer) = self.file.as_mut() else {
            return Ok(());
        };
        writer.flush()?;
        let file = writer.get_mut();
        file.seek(SeekFrom::Start(0))?;
        let mut reader = BufReader::new(&*file);
        let mut line = Vec::new();
        for _ in 0..self.len {
            line.clear();
            reader.read_until(b'\n', &mut line)?;
            each(serde_json::from_slice(&line)?)?;
        }
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        self.len = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_come_back_in_order_and_the_queue_can_be_used_again() {
        let mut spill = Spill::<(String, u32)>::default();
        spill.push(&("a\nb".into(), 1)).unwrap();
        spill.push(&("c".into(), 2)).unwrap();
        let mut seen = Vec::new();
        spill
            .drain(|item| {
                seen.push(item);
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, [("a\nb".to_string(), 1), ("c".to_string(), 2)]);
        spill.push(&("d".into(), 3)).unwrap();
        seen.clear();
        spill
            .drain(|item| {
                seen.push(item);
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, [("d".to_string(), 3)]);
    }
}
