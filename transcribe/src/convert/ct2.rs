//! Reading a CTranslate2 `model.bin` without loading it: the index (name, shape, dtype and
//! file offset of every variable) is read in one pass that seeks over the data, and each
//! variable's bytes are read only when the converter writes it.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::TranscribeError;

/// CTranslate2's element types (the `u8` after the dims).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    /// 32-bit float.
    F32,
    /// 8-bit integer.
    I8,
    /// 16-bit integer (head counts).
    I16,
    /// 32-bit integer.
    I32,
    /// IEEE half.
    F16,
    /// bfloat16.
    BF16,
}

impl DType {
    fn from_code(code: u8) -> Option<DType> {
        Some(match code {
            0 => DType::F32,
            1 => DType::I8,
            2 => DType::I16,
            3 => DType::I32,
            4 => DType::F16,
            5 => DType::BF16,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::I8 => 1,
            DType::I16 | DType::F16 | DType::BF16 => 2,
            DType::F32 | DType::I32 => 4,
        }
    }
}

/// Where one variable lives in the file.
#[derive(Debug, Clone)]
pub struct Variable {
    /// Its shape, outermost first.
    pub dims: Vec<usize>,
    /// Its element type.
    pub dtype: DType,
    /// Offset of its data in the file.
    pub offset: u64,
    /// Its data's length in bytes.
    pub len: usize,
}

/// An open CTranslate2 model: the index plus the file to read data from.
pub struct Ct2Model {
    file: BufReader<File>,
    vars: HashMap<String, Variable>,
}

fn bad(msg: impl Into<String>) -> TranscribeError {
    TranscribeError::BadModel(msg.into())
}

fn read_u32(r: &mut impl Read) -> Result<u32, TranscribeError> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn read_str(r: &mut impl Read) -> Result<String, TranscribeError> {
    let mut b = [0u8; 2];
    r.read_exact(&mut b)?;
    let mut s = vec![0u8; u16::from_le_bytes(b) as usize];
    r.read_exact(&mut s)?;
    while s.last() == Some(&0) {
        s.pop();
    }
    String::from_utf8(s).map_err(|_| bad("a variable name is not UTF-8"))
}

impl Ct2Model {
    /// Reads the index of `model.bin`; fails clearly on anything but a Whisper model in
    /// binary version 5 or later.
    pub fn open(path: &Path) -> Result<Ct2Model, TranscribeError> {
        let f = File::open(path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
        let file_len = f.metadata()?.len();
        let mut r = BufReader::new(f);
        let version = read_u32(&mut r)?;
        if !(5..=6).contains(&version) {
            return Err(bad(format!(
                "{}: CTranslate2 binary version {version} (this converter reads 5 and 6)",
                path.display()
            )));
        }
        let spec = read_str(&mut r)?;
        if spec != "WhisperSpec" {
            return Err(bad(format!(
                "{}: a {spec:?}, not a Whisper model",
                path.display()
            )));
        }
        let _revision = read_u32(&mut r)?;
        let count = read_u32(&mut r)?;
        let mut vars = HashMap::new();
        for _ in 0..count {
            let name = read_str(&mut r)?;
            let mut rank = [0u8; 1];
            r.read_exact(&mut rank)?;
            let dims = (0..rank[0])
                .map(|_| read_u32(&mut r).map(|d| d as usize))
                .collect::<Result<Vec<_>, _>>()?;
            let mut code = [0u8; 1];
            r.read_exact(&mut code)?;
            let dtype = DType::from_code(code[0])
                .ok_or_else(|| bad(format!("{name}: unknown dtype {}", code[0])))?;
            let len = read_u32(&mut r)? as usize;
            let offset = r.stream_position()?;
            if offset.saturating_add(len as u64) > file_len {
                return Err(bad(format!("{}: truncated in {name}", path.display())));
            }
            // checked: a corrupt shape must be an error, not an overflow that happens to match
            let bytes = dims.iter().try_fold(dtype.size(), |n, &d| n.checked_mul(d));
            if bytes != Some(len) {
                return Err(bad(format!("{name}: {len} bytes for shape {dims:?}")));
            }
            r.seek_relative(len as i64)?;
            vars.insert(
                name,
                Variable {
                    dims,
                    dtype,
                    offset,
                    len,
                },
            );
        }
        Ok(Ct2Model { file: r, vars })
    }

    /// A variable's index entry.
    pub fn var(&self, name: &str) -> Result<&Variable, TranscribeError> {
        self.vars
            .get(name)
            .ok_or_else(|| bad(format!("the model has no variable {name}")))
    }

    /// A variable's shape, which must have `rank` dims: the converter indexes them, and a
    /// malformed model must give an error naming the variable, not a panic.
    pub fn dims(&self, name: &str, rank: usize) -> Result<Vec<usize>, TranscribeError> {
        let dims = &self.var(name)?.dims;
        if dims.len() != rank {
            return Err(bad(format!("{name}: expected {rank} dims, got {dims:?}")));
        }
        Ok(dims.clone())
    }

    /// Whether the model has this variable.
    pub fn has(&self, name: &str) -> bool {
        self.vars.contains_key(name)
    }

    /// A variable's raw little-endian bytes.
    pub fn read(&mut self, name: &str) -> Result<(Variable, Vec<u8>), TranscribeError> {
        let v = self.var(name)?.clone();
        self.file.seek(SeekFrom::Start(v.offset))?;
        let mut data = vec![0u8; v.len];
        self.file.read_exact(&mut data)?;
        Ok((v, data))
    }

    /// A scalar integer variable (head counts).
    pub fn read_int(&mut self, name: &str) -> Result<i64, TranscribeError> {
        let (v, d) = self.read(name)?;
        if d.len() < v.dtype.size() {
            return Err(bad(format!("{name}: empty, expected an integer")));
        }
        Ok(match v.dtype {
            DType::I8 => d[0] as i8 as i64,
            DType::I16 => i16::from_le_bytes([d[0], d[1]]) as i64,
            DType::I32 => i32::from_le_bytes([d[0], d[1], d[2], d[3]]) as i64,
            _ => return Err(bad(format!("{name} is not an integer"))),
        })
    }
}
