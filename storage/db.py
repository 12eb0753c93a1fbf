"""The shared Flask-SQLAlchemy handle; models derive from Base."""

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# No autoflush: pending changes reach the database only at the verb's explicit flush or
# commit, so the instance's compare-and-swap UPDATE is the first write of a verb and a
# concurrent verb waits on it (or loses) instead of on some earlier incidental write.
db = SQLAlchemy(model_class=Base, session_options={"autoflush": False})
