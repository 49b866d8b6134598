//! Items put aside on disk, not in memory, until what they lack is known: the Trivy parser
//! keeps here the findings it read before their report named its artifact (or their
//! result its target), so that no part of a report is ever held in memory whole.
//!
//! The file goes in the folder the caller names (the database's), not in `$TMPDIR`: on many
//! systems /tmp is a tmpfs, held in memory, and a spill may be as large as a whole upload.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

/// A queue of `T` in an unnamed temporary file (deleted when closed, even on a crash;
/// readable by its owner only), made only once something is put aside: the common case
/// never touches the disk.
pub struct Spill<T> {
    folder: PathBuf,
    file: Option<BufWriter<File>>,
    len: usize,
    kind: PhantomData<T>,
}

impl<T: Serialize + DeserializeOwned> Spill<T> {
    /// A queue whose file, once needed, is made in `folder`.
    pub fn in_folder(folder: &Path) -> Self {
        Self {
            folder: folder.to_path_buf(),
            file: None,
            len: 0,
            kind: PhantomData,
        }
    }

    /// Moves the queue out, leaving an empty one (in the same folder) in its place.
    pub fn take(&mut self) -> Self {
        let empty = Self::in_folder(&self.folder);
        std::mem::replace(self, empty)
    }

    /// Puts `item` aside, one JSON line.
    pub fn push(&mut self, item: &T) -> io::Result<()> {
        let file = match &mut self.file {
            Some(file) => file,
            None => self
                .file
                .insert(BufWriter::new(unnamed_file_in(&self.folder)?)),
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

/// An unnamed file in `folder` (Linux's `O_TMPFILE`, else made and unlinked at once), made
/// readable by its owner only: `O_TMPFILE` takes the umask's mode, often 0644.
fn unnamed_file_in(folder: &Path) -> io::Result<File> {
    use std::os::unix::fs::PermissionsExt;
    let file = tempfile::tempfile_in(folder)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_come_back_in_order_and_the_queue_can_be_used_again() {
        let folder = tempfile::tempdir().unwrap();
        let mut spill = Spill::<(String, u32)>::in_folder(folder.path());
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

    /// The file is made in the folder given, with no name, readable by its owner only.
    #[test]
    fn the_file_is_made_in_the_folder_given_for_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        use std::os::unix::io::AsRawFd;
        let folder = tempfile::tempdir().unwrap();
        let mut spill = Spill::<u32>::in_folder(folder.path());
        assert!(spill.file.is_none(), "nothing put aside, no file");
        spill.push(&1).unwrap();
        let file = spill.file.as_ref().unwrap().get_ref();
        // Linux names an open file's path here, marked "(deleted)" once it has no name.
        let path = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).unwrap();
        let folder = folder.path().canonicalize().unwrap();
        assert_eq!(path.parent(), Some(folder.as_path()), "{}", path.display());
        assert!(
            path.to_string_lossy().ends_with("(deleted)"),
            "{}",
            path.display()
        );
        assert_eq!(
            std::fs::read_dir(&folder).unwrap().count(),
            0,
            "a named file"
        );
        let mode = file.metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }

    #[test]
    fn a_folder_that_cannot_take_the_file_is_an_error_not_a_fallback() {
        let mut spill = Spill::<u32>::in_folder(Path::new("/nonexistent/itsm-bridge"));
        assert!(spill.push(&1).is_err());
    }
}
