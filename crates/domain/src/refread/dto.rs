//! The shapes of the answers of the read services (`soap-read-services.md` §6–§9), written once:
//! every DTO's name, type namespace and children in XSD order. The builders fill [`Obj`] values
//! of these shapes; the SOAP encoder walks them in order (every child, `xsi:nil` for a missing
//! value), the REST twins serialise the same values as JSON, and our WSDL is generated from them.

use serde::ser::{Serialize, SerializeMap, Serializer};

/// The type of one child.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    /// `xsd:string`.
    Str,
    /// `xsd:int`.
    Int,
    /// `xsd:integer`.
    Integer,
    /// `xsd:decimal`.
    Decimal,
    /// `xsd:dateTime`, written as a local date-time without offset (`2004-05-12T00:00:00`,
    /// `soap-read-services.md` §13 rule 5).
    DateTime,
    /// A complex type.
    Dto(&'static Dto),
    /// An array type: a container whose repeated child is `item` (or another name).
    List(&'static ListTy),
}

/// One child of a DTO.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Element name (unqualified).
    pub name: &'static str,
    /// Its type.
    pub ty: Ty,
    /// `nillable="true"` (almost every child, §1.5).
    pub nillable: bool,
    /// `minOccurs="0" maxOccurs="unbounded"`: a leaf repeated without a wrapper (`listVersion`,
    /// `listComposante` … of the request DTO `EtudiantCritereDTO`, §3.8).
    pub repeated: bool,
}

/// A complex type.
#[derive(Debug)]
pub struct Dto {
    /// Type name (`ComposanteDTO3`).
    pub name: &'static str,
    /// Type namespace (`ComposanteDTO3.pedagogique.dto.transverse.commun.apogee.education.gouv`).
    pub ns: &'static str,
    /// Children in sequence order. Empty for the types whose children the sheet does not give:
    /// they are always answered nil (or, as containers, empty).
    pub fields: &'static [Field],
}

/// An array type (`TableauComposanteDTO3`): one repeated child.
#[derive(Debug)]
pub struct ListTy {
    /// Type name.
    pub name: &'static str,
    /// Type namespace: the namespace of the DTO that uses it (§1.4).
    pub ns: &'static str,
    /// Repeated element (`item`, `composante`).
    pub item: &'static str,
    /// Type of the repeated element.
    pub of: &'static Dto,
}

/// A nillable child.
pub const fn f(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        nillable: true,
        repeated: false,
    }
}

/// A child that is not nillable.
pub const fn strict(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        nillable: false,
        repeated: false,
    }
}

/// A nillable string child.
pub const fn s(name: &'static str) -> Field {
    f(name, Ty::Str)
}

/// A nillable string leaf repeated without a wrapper, 0..unbounded (request DTOs only).
pub const fn many(name: &'static str) -> Field {
    Field {
        name,
        ty: Ty::Str,
        nillable: true,
        repeated: true,
    }
}

/// The value of one child.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// Absent: `xsi:nil="true"`, JSON `null`.
    Nil,
    /// Text (also numbers, as their decimal writing).
    Text(String),
    /// A complex value.
    Obj(Obj),
    /// The items of an array (an empty container when there are none).
    List(Vec<Obj>),
}

/// A value of a DTO: one [`Val`] per child, in the DTO's order.
#[derive(Debug, Clone)]
pub struct Obj {
    /// Its type.
    pub dto: &'static Dto,
    /// One value per field of `dto`.
    pub values: Vec<Val>,
}

impl PartialEq for Obj {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.dto, other.dto) && self.values == other.values
    }
}

impl Obj {
    /// Every child nil.
    pub fn new(dto: &'static Dto) -> Self {
        Obj {
            dto,
            values: vec![Val::Nil; dto.fields.len()],
        }
    }

    /// Sets child `name`. A name the DTO does not have is a bug of the builder (caught by the
    /// tests in debug builds, ignored otherwise).
    pub fn set(&mut self, name: &str, value: Val) -> &mut Self {
        match self.dto.fields.iter().position(|f| f.name == name) {
            Some(i) => self.values[i] = value,
            None => debug_assert!(false, "{} has no child {name}", self.dto.name),
        }
        self
    }

    /// Sets a text child; `None` leaves it nil.
    pub fn text(&mut self, name: &str, value: Option<String>) -> &mut Self {
        self.set(name, value.map_or(Val::Nil, Val::Text))
    }

    /// The value of child `name`.
    pub fn get(&self, name: &str) -> Option<&Val> {
        self.dto
            .fields
            .iter()
            .position(|f| f.name == name)
            .map(|i| &self.values[i])
    }

    /// The children with their definitions, in order.
    pub fn children(&self) -> impl Iterator<Item = (&'static Field, &Val)> {
        self.dto.fields.iter().zip(&self.values)
    }
}

impl Serialize for Obj {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.values.len()))?;
        for (field, value) in self.children() {
            map.serialize_entry(field.name, &Json(field.ty, value))?;
        }
        map.end()
    }
}

/// A value as JSON: numbers as numbers, nil as `null`, arrays as arrays.
struct Json<'a>(Ty, &'a Val);

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match (self.0, self.1) {
            (_, Val::Nil) => serializer.serialize_none(),
            (Ty::Int | Ty::Integer, Val::Text(t)) => match t.parse::<i64>() {
                Ok(n) => serializer.serialize_i64(n),
                Err(_) => serializer.serialize_str(t),
            },
            (_, Val::Text(t)) => serializer.serialize_str(t),
            (_, Val::Obj(o)) => o.serialize(serializer),
            (_, Val::List(items)) => serializer.collect_seq(items),
        }
    }
}
