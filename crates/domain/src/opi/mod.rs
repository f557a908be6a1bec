//! OPI (pré-inscription): the payload and its rules (`domain.md` §3).

pub mod dto;
