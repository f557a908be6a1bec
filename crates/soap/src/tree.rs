//! The request wrapper's content as the decoder read it: a flat tree in document order over one
//! text buffer (two allocations per request, whatever its size), and a serde `Deserializer` over
//! it, so that the DTOs are read straight from what the XML said, without a JSON tree.
//!
//! The shape is the one the DTOs (shared with REST's JSON) expect, and the one
//! [`Item::to_json`] renders: a block is a map of its children; `item` and the
//! [`REPEATED_LEAVES`](crate::decode::REPEATED_LEAVES) are sequences of every element of that
//! name among their siblings, in order; a nil, absent or empty leaf is null; an empty `item` is an
//! empty map (a vœu with every leaf nil, §2.8); an MTOM parameter is `{"xop:Include": href}`; the
//! streamed parameter is `{"streamed": true}`.

use serde::de::value::{BorrowedStrDeserializer, MapDeserializer};
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::fmt;

thread_local! {
    /// The values the DTO being read ignored (unknown elements), while [`Item::read_tracking`]
    /// runs on this thread (deserializing is synchronous).
    static IGNORED: RefCell<Option<Vec<At>>> = const { RefCell::new(None) };
}

/// A range of [`Tree`]'s text buffer.
type Span = (usize, usize);

/// What an element turned out to be once it closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Still open (only while decoding).
    Open,
    /// Nil, or a leaf without text.
    Null,
    /// A leaf and its text.
    Text(Span),
    /// An element with children.
    Block,
    /// An `item` without text nor children.
    EmptyItem,
    /// An MTOM parameter and the `href` of its `xop:Include`.
    Xop(Span),
    /// The streamed parameter (its text went to the sink).
    Streamed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Node {
    name: Span,
    kind: Kind,
    /// One past the index of its last descendant: its next sibling, if it has one.
    end: usize,
}

/// The request wrapper and what it contains (node 0 is the wrapper).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    text: String,
    nodes: Vec<Node>,
}

/// Elements that are sequences: `item` and the repeated leaves of the read contracts.
pub(crate) fn repeats(name: &str) -> bool {
    name == "item" || crate::decode::REPEATED_LEAVES.contains(&name)
}

impl Tree {
    // --- building (the decoder) ---

    /// An element starts: its node, open, after every node so far.
    pub(crate) fn open(&mut self, name: &str) -> usize {
        let start = self.text.len();
        self.text.push_str(name);
        self.nodes.push(Node {
            name: (start, self.text.len()),
            kind: Kind::Open,
            end: usize::MAX,
        });
        self.nodes.len() - 1
    }

    /// Where the next text goes.
    pub(crate) fn mark(&self) -> usize {
        self.text.len()
    }

    /// Appends text to the buffer.
    pub(crate) fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// The buffer from `from` on.
    pub(crate) fn since(&self, from: usize) -> &str {
        self.text.get(from..).unwrap_or_default()
    }

    /// Drops the buffer from `from` on (text that is no leaf's: blanks between elements).
    pub(crate) fn truncate(&mut self, from: usize) {
        self.text.truncate(from);
    }

    /// Stores `text` and returns its span.
    pub(crate) fn store(&mut self, text: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(text);
        (start, self.text.len())
    }

    /// The element `node` closes as `kind`; its descendants are the nodes after it.
    pub(crate) fn close(&mut self, node: usize, kind: Kind) {
        let end = self.nodes.len();
        if let Some(n) = self.nodes.get_mut(node) {
            n.kind = kind;
            n.end = end;
        }
    }

    /// Whether a child of `parent` before `child` has `child`'s name.
    pub(crate) fn named_before(&self, parent: usize, child: usize) -> bool {
        let name = self.name(child);
        self.children(parent)
            .take_while(|c| *c < child)
            .any(|c| self.name(c) == name)
    }

    /// A wrapper that never closed (a truncated message the reader let through) holds nothing.
    pub(crate) fn seal(&mut self) {
        if self.nodes.first().is_some_and(|n| n.kind == Kind::Open) {
            self.nodes.truncate(1);
            self.close(0, Kind::Block);
        }
    }

    // --- reading ---

    fn span(&self, (start, end): Span) -> &str {
        self.text.get(start..end).unwrap_or_default()
    }

    fn name(&self, node: usize) -> &str {
        self.nodes.get(node).map_or("", |n| self.span(n.name))
    }

    fn children(&self, parent: usize) -> impl Iterator<Item = usize> + '_ {
        let end = self
            .nodes
            .get(parent)
            .map_or(0, |n| n.end.min(self.nodes.len()));
        let mut next = parent + 1;
        std::iter::from_fn(move || {
            if next >= end {
                return None;
            }
            let c = next;
            next = self.nodes[c].end.max(c + 1);
            Some(c)
        })
    }

    /// The path of `target` below `root`, as `serde_ignored` spells it: element names and, for
    /// the elements of a sequence, their index, joined by dots.
    fn path(&self, root: usize, target: usize) -> String {
        let mut out = String::new();
        let mut at = root;
        while at != target {
            let Some(c) = self
                .children(at)
                .find(|c| *c <= target && target < self.nodes[*c].end.max(*c + 1))
            else {
                break;
            };
            let name = self.name(c);
            push_segment(&mut out, name);
            if repeats(name) {
                let index = self
                    .children(at)
                    .take_while(|x| *x < c)
                    .filter(|x| self.name(*x) == name)
                    .count();
                push_segment(&mut out, &index.to_string());
            }
            at = c;
        }
        out
    }

    /// The wrapper (absent when the decoder found none).
    pub fn root(&self) -> Item<'_> {
        Item {
            tree: self,
            at: if self.nodes.is_empty() {
                At::Absent
            } else {
                At::Node(0)
            },
        }
    }
}

fn push_segment(path: &mut String, segment: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(segment);
}

#[derive(Debug, Clone, Copy)]
enum At {
    Absent,
    Node(usize),
    /// Every child of `parent` named like `first`, from `first` on.
    List {
        parent: usize,
        first: usize,
    },
}

/// One value of the tree: an element, the sequence of a repeated element, or nothing.
#[derive(Debug, Clone, Copy)]
pub struct Item<'t> {
    tree: &'t Tree,
    at: At,
}

impl<'t> Item<'t> {
    /// Reads `read(self)` (a DTO deserialized from this item) and the paths, relative to this
    /// item, of the values it ignored (unknown elements), in document order: what
    /// `serde_ignored` reports, without its allocation per key (and an ignored element is not
    /// walked).
    pub fn read_tracking<T>(self, read: impl FnOnce(Self) -> T) -> (T, Vec<String>) {
        let before = IGNORED.with(|i| i.replace(Some(Vec::new())));
        let value = read(self);
        let ignored = IGNORED.with(|i| i.replace(before)).unwrap_or_default();
        let root = match self.at {
            At::Node(n) => n,
            At::Absent | At::List { .. } => return (value, Vec::new()),
        };
        let paths = ignored
            .into_iter()
            .filter_map(|at| match at {
                At::Node(n) => Some(self.tree.path(root, n)),
                At::List { parent, first } => {
                    let mut p = self.tree.path(root, parent);
                    push_segment(&mut p, self.tree.name(first));
                    Some(p)
                }
                At::Absent => None,
            })
            .collect();
        (value, paths)
    }

    /// The child `name` of a block (the sequence of them for a repeated name); absent otherwise.
    pub fn get(&self, name: &str) -> Item<'t> {
        let at = match self.at {
            At::Node(n) if self.tree.nodes[n].kind == Kind::Block => self
                .tree
                .children(n)
                .find(|c| self.tree.name(*c) == name)
                .map_or(At::Absent, |c| {
                    if repeats(name) {
                        At::List {
                            parent: n,
                            first: c,
                        }
                    } else {
                        At::Node(c)
                    }
                }),
            _ => At::Absent,
        };
        Item {
            tree: self.tree,
            at,
        }
    }

    fn list(&self, parent: usize, first: usize) -> impl Iterator<Item = Item<'t>> + 't {
        let tree = self.tree;
        let name = tree.name(first);
        tree.children(parent)
            .filter(move |c| *c >= first && tree.name(*c) == name)
            .map(move |c| Item {
                tree,
                at: At::Node(c),
            })
    }

    /// The JSON rendering of this value.
    pub fn to_json(&self) -> Value {
        let tree = self.tree;
        match self.at {
            At::Absent => Value::Null,
            At::List { parent, first } => {
                Value::Array(self.list(parent, first).map(|i| i.to_json()).collect())
            }
            At::Node(n) => match tree.nodes[n].kind {
                Kind::Open | Kind::Null => Value::Null,
                Kind::Text(s) => Value::String(tree.span(s).to_owned()),
                Kind::EmptyItem => Value::Object(Map::new()),
                Kind::Xop(s) => single("xop:Include", Value::String(tree.span(s).to_owned())),
                Kind::Streamed => single("streamed", Value::Bool(true)),
                Kind::Block => {
                    let mut map = Map::new();
                    for c in tree.children(n) {
                        let name = tree.name(c);
                        if !map.contains_key(name) {
                            map.insert(name.to_owned(), self.get(name).to_json());
                        }
                    }
                    Value::Object(map)
                }
            },
        }
    }
}

fn single(key: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.to_owned(), value);
    Value::Object(m)
}

/// A value of the tree that does not fit the DTO.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DeError(String);

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError(msg.to_string())
    }
}

impl<'de> de::Deserializer<'de> for Item<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let tree = self.tree;
        match self.at {
            At::Absent => visitor.visit_unit(),
            At::List { parent, first } => {
                visitor.visit_seq(Seq(Box::new(self.list(parent, first))))
            }
            At::Node(n) => match tree.nodes[n].kind {
                Kind::Open | Kind::Null => visitor.visit_unit(),
                Kind::Text(s) => visitor.visit_borrowed_str(tree.span(s)),
                Kind::Block => visitor.visit_map(Children {
                    item: self,
                    parent: n,
                    next: tree.children(n).next(),
                    value: None,
                }),
                Kind::EmptyItem => {
                    visitor.visit_map(MapDeserializer::new(std::iter::empty::<(&str, &str)>()))
                }
                Kind::Xop(s) => visitor.visit_map(MapDeserializer::new(std::iter::once((
                    "xop:Include",
                    tree.span(s),
                )))),
                Kind::Streamed => {
                    visitor.visit_map(MapDeserializer::new(std::iter::once(("streamed", true))))
                }
            },
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let null = match self.at {
            At::Absent => true,
            At::Node(n) => matches!(self.tree.nodes[n].kind, Kind::Open | Kind::Null),
            At::List { .. } => false,
        };
        if null {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.at {
            At::Node(n) if let Kind::Text(s) = self.tree.nodes[n].kind => {
                let text: &'de str = self.tree.span(s);
                visitor.visit_enum(IntoDeserializer::<DeError>::into_deserializer(text))
            }
            _ => self.deserialize_any(visitor),
        }
    }

    /// An unknown element: recorded (see [`Item::read_tracking`]), not walked.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        IGNORED.with(|i| {
            if let Some(list) = i.borrow_mut().as_mut() {
                list.push(self.at);
            }
        });
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

/// The children of a block, as a map (a repeated name once, as the sequence of its elements).
struct Children<'t> {
    item: Item<'t>,
    parent: usize,
    next: Option<usize>,
    value: Option<Item<'t>>,
}

impl<'de> MapAccess<'de> for Children<'de> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let tree = self.item.tree;
        while let Some(c) = self.next {
            let end = tree.nodes[self.parent].end.min(tree.nodes.len());
            self.next = Some(tree.nodes[c].end.max(c + 1)).filter(|n| *n < end);
            let name: &'de str = tree.name(c);
            let at = if repeats(name) {
                if tree.named_before(self.parent, c) {
                    continue;
                }
                At::List {
                    parent: self.parent,
                    first: c,
                }
            } else {
                At::Node(c)
            };
            self.value = Some(Item { tree, at });
            return seed
                .deserialize(BorrowedStrDeserializer::<DeError>::new(name))
                .map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let item = self.value.take().unwrap_or(Item {
            tree: self.item.tree,
            at: At::Absent,
        });
        seed.deserialize(item)
    }
}

/// The elements of a repeated name, as a sequence.
struct Seq<'t>(Box<dyn Iterator<Item = Item<'t>> + 't>);

impl<'de> SeqAccess<'de> for Seq<'de> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        self.0.next().map(|item| seed.deserialize(item)).transpose()
    }
}
