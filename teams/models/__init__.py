from .federation import Federation, FederationKind, FederationQuerySet, JurisdictionQuerySet, Level
from .users import User

__all__ = [
    "Federation",
    "FederationKind",
    "FederationQuerySet",
    "JurisdictionQuerySet",
    "Level",
    "User",
]
