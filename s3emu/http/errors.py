"""S3 errors: a code, an HTTP status, a message and any extra fields S3 puts
in the <Error> document."""
from __future__ import annotations

import email.utils
from typing import Any, Callable

from ..storage import errors as storage

# code -> (HTTP status, default message), as AWS documents them.
ERRORS: dict[str, tuple[int, str]] = {
    "AccessDenied": (403, "Access Denied"),
    "AccessControlListNotSupported": (400, "The bucket does not allow ACLs"),
    "AccessForbidden": (403, "CORSResponse: This CORS request is not allowed. This is usually because the "
                             "evalution of Origin, request method / Access-Control-Request-Method or "
                             "Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."),
    "AuthorizationHeaderMalformed": (400, "The authorization header is malformed."),
    "AuthorizationQueryParametersError": (400, "Error parsing the query-string authentication parameters."),
    "BadDigest": (400, "The Content-MD5 you specified did not match what we received."),
    "BadRequest": (400, "Bad Request"),
    "BucketAlreadyExists": (409, "The requested bucket name is not available."),
    "BucketAlreadyOwnedByYou": (409, "Your previous request to create the named bucket succeeded and you "
                                     "already own it."),
    "BucketNotEmpty": (409, "The bucket you tried to delete is not empty"),
    "ConditionalRequestConflict": (409, "The conditional request cannot succeed due to a conflicting operation "
                                        "against this resource."),
    "CrossLocationLoggingProhibitted": (403, "Cross S3 location logging not allowed. "),
    "EntityTooLarge": (400, "Your proposed upload exceeds the maximum allowed size"),
    "EntityTooSmall": (400, "Your proposed upload is smaller than the minimum allowed size"),
    "IdMismatch": (400, "Document ID does not match the specified configuration ID."),
    "IllegalLocationConstraintException": (400, "The specified location-constraint is not valid"),
    "IllegalVersioningConfigurationException": (400, "The Versioning element must be specified"),
    "IncompleteBody": (400, "You did not provide the number of bytes specified by the Content-Length HTTP "
                            "header"),
    "InvalidBucketAclWithObjectOwnership": (400, "Bucket cannot have ACLs set with ObjectOwnership's "
                                                 "BucketOwnerEnforced setting"),
    "InvalidBucketOwnerAWSAccountID": (400, "The value of the expected bucket owner parameter must be an AWS "
                                            "Account ID..."),
    "InternalError": (500, "We encountered an internal error. Please try again."),
    "InvalidAccessKeyId": (403, "The AWS Access Key Id you provided does not exist in our records."),
    "InvalidArgument": (400, "Invalid Argument"),
    "InvalidBucketAclWithBlockPublicAccessError": (400, "Bucket cannot have public ACLs set with "
                                                        "BlockPublicAccess enabled"),
    "InvalidBucketName": (400, "The specified bucket is not valid."),
    "InvalidBucketState": (409, "The request is not valid with the current state of the bucket."),
    "InvalidChunkSizeError": (400, "Only the last chunk is allowed to have a size less than 8192 bytes"),
    "InvalidDigest": (400, "The Content-MD5 you specified was invalid."),
    "InvalidEncryptionAlgorithmError": (400, "The Encryption request you specified is not valid. Supported value: "
                                             "AES256."),
    "InvalidLocationConstraint": (400, "The specified location-constraint is not valid"),
    "InvalidObjectState": (403, "The operation is not valid for the object's storage class"),
    "InvalidPart": (400, "One or more of the specified parts could not be found.  The part may not have been "
                         "uploaded, or the specified entity tag may not match the part's entity tag."),
    "InvalidPartNumber": (416, "The requested partnumber is not satisfiable"),
    "InvalidPartOrder": (400, "The list of parts was not in ascending order. Parts must be ordered by part "
                              "number."),
    "InvalidRange": (416, "The requested range is not satisfiable"),
    "InvalidRequest": (400, "Invalid Request"),
    "InvalidS3DestinationBucket": (400, "Invalid bucket ARN."),
    "InvalidStorageClass": (400, "The storage class you specified is not valid"),
    "InvalidTag": (400, "The TagKey you have provided is invalid"),
    "InvalidTargetBucketForLogging": (400, "The target bucket for logging does not exist"),
    "InvalidURI": (400, "Couldn't parse the specified URI."),
    "KeyTooLongError": (400, "Your key is too long"),
    "MalformedACLError": (400, "The XML you provided was not well-formed or did not validate against our "
                               "published schema"),
    "MalformedPOSTRequest": (400, "The body of your POST request is not well-formed multipart/form-data."),
    "MalformedPolicy": (400, "Policy has invalid resource"),
    "MalformedTrailerError": (400, "The request contained trailing data that was not well-formed or did not "
                                   "conform to our published schema."),
    "MalformedXML": (400, "The XML you provided was not well-formed or did not validate against our published "
                          "schema"),
    "MaxMessageLengthExceeded": (400, "Your request was too big."),
    "MetadataTooLarge": (400, "Your metadata headers exceed the maximum allowed metadata size."),
    "MethodNotAllowed": (405, "The specified method is not allowed against this resource."),
    "MissingContentLength": (411, "You must provide the Content-Length HTTP header."),
    "MissingRequestBodyError": (400, "Request Body is empty"),
    "MissingSecurityHeader": (400, "Your request was missing a required header"),
    "MaxPostPreDataLengthExceededError": (400, "Your POST request fields preceeding the upload file was too "
                                               "large."),
    "NoSuchBucket": (404, "The specified bucket does not exist"),
    "NoSuchBucketPolicy": (404, "The bucket policy does not exist"),
    "NoSuchCORSConfiguration": (404, "The CORS configuration does not exist"),
    "NoSuchConfiguration": (404, "The specified configuration does not exist."),
    "NoSuchKey": (404, "The specified key does not exist."),
    "NoSuchLifecycleConfiguration": (404, "The lifecycle configuration does not exist"),
    "NoSuchObjectLockConfiguration": (404, "The specified object does not have a ObjectLock configuration"),
    "NoSuchPublicAccessBlockConfiguration": (404, "The public access block configuration was not found"),
    "NoSuchTagSet": (404, "The TagSet does not exist"),
    "NoSuchUpload": (404, "The specified upload does not exist. The upload ID may be invalid, or the upload may "
                          "have been aborted or completed."),
    "NoSuchVersion": (404, "The specified version does not exist."),
    "NotImplemented": (501, "A header you provided implies functionality that is not implemented"),
    "NoSuchWebsiteConfiguration": (404, "The specified bucket does not have a website configuration"),
    "NotModified": (304, "Not Modified"),
    "ObjectLockConfigurationNotFoundError": (404, "Object Lock configuration does not exist for this bucket"),
    "OwnershipControlsNotFoundError": (404, "The bucket ownership controls were not found"),
    "PreconditionFailed": (412, "At least one of the pre-conditions you specified did not hold"),
    "ReplicationConfigurationNotFoundError": (404, "The replication configuration was not found"),
    "RequestTimeTooSkewed": (403, "The difference between the request time and the current time is too "
                                  "large."),
    "RequestTimeout": (400, "Your socket connection to the server was not read from or written to within the "
                            "timeout period. Idle connections will be closed."),
    "RestoreAlreadyInProgress": (409, "Object restore is already in progress"),
    "ServiceUnavailable": (503, "Please reduce your request rate."),
    "SignatureDoesNotMatch": (403, "The request signature we calculated does not match the signature you "
                                   "provided. Check your key and signing method."),
    "SlowDown": (503, "Please reduce your request rate."),
    "UnexpectedContent": (400, "This request does not support content"),
    "UnresolvableGrantByEmailAddress": (400, "The e-mail address you provided does not match any account on "
                                             "record."),
    "TooManyConfigurations": (400, "You are attempting to create a new configuration but have already reached the "
                              "1,000-configuration limit."),
    "XAmzContentSHA256Mismatch": (400, "The provided 'x-amz-content-sha256' header does not match what was "
                                       "computed."),
}


class S3Error(Exception):
    def __init__(self, code: str, message: str | None = None, *, status: int | None = None,
                 headers: dict[str, str] | None = None, **fields: Any) -> None:
        if code not in ERRORS and status is None:
            raise ValueError(f"{code} is not in the error catalogue: give its status")
        default_status, default_message = ERRORS.get(code, (status or 500, code))
        self.code = code
        self.status = status or default_status
        self.message = default_message if message is None else message  # "" is an empty <Message>, as S3 sends some
        self.fields = {k: v for k, v in fields.items() if v is not None}
        self.headers = headers or {}
        super().__init__(f"{code}: {self.message}")

    @classmethod
    def from_storage(cls, err: storage.StorageError, method: str | None = None) -> "S3Error":
        """The S3 error a storage failure is (STORAGE_ERRORS), with its fields;
        `method` is the request's, which MethodNotAllowed names."""
        fields: dict[str, Any] = dict(err.fields)
        headers: dict[str, str] = {}
        if isinstance(err, storage.DeleteMarkerHit):
            # S3 says a delete marker stands there; one asked for by id may only be deleted
            headers = {"x-amz-delete-marker": "true", "x-amz-version-id": err.marker_version_id}
            if err.by_version:
                headers["Allow"] = "DELETE"
                headers["Last-Modified"] = email.utils.formatdate(int(err.last_modified), usegmt=True)
                return cls("MethodNotAllowed", headers=headers, **{"Method": method, **fields})
        if isinstance(err, (storage.ObjectExists, storage.ETagMismatch)):
            fields["Condition"] = "If-None-Match" if isinstance(err, storage.ObjectExists) else "If-Match"
        code, message = next(STORAGE_ERRORS[t] for t in type(err).__mro__ if t in STORAGE_ERRORS)
        return cls(code, message(err) if callable(message) else message, headers=headers, **fields)


NO_LOCK_CONFIG = "Bucket is missing Object Lock Configuration"

# What each storage failure is in S3's terms: its code, and its message when
# not the catalogue's (a function of the error where its data shape it).
StorageMessage = str | Callable[[Any], str | None] | None
STORAGE_ERRORS: dict[type[storage.StorageError], tuple[str, StorageMessage]] = {
    storage.StorageError: ("InternalError", None),
    storage.NoSuchBucket: ("NoSuchBucket", None),
    storage.BucketAlreadyOwnedByYou: ("BucketAlreadyOwnedByYou", None),
    storage.BucketAlreadyExists: ("BucketAlreadyExists", None),
    storage.BucketNotEmpty: ("BucketNotEmpty", None),
    storage.NoSuchKey: ("NoSuchKey", None),
    storage.DeleteMarkerHit: ("NoSuchKey", None),
    storage.NoSuchUpload: ("NoSuchUpload", None),
    storage.NoSuchVersion: ("NoSuchVersion", None),
    storage.InvalidVersionId: ("InvalidArgument", lambda e: "Version id cannot be the empty string"
                               if e.version_id == "" else "Invalid version id specified"),
    storage.IncompleteBody: ("IncompleteBody", lambda e: "The request body is longer than its Content-Length"
                             if e.received > e.declared else None),
    storage.EntityTooLarge: ("EntityTooLarge", None),
    storage.EntityTooSmall: ("EntityTooSmall", None),
    storage.InvalidPart: ("InvalidPart", None),
    storage.InvalidPartOrder: ("InvalidPartOrder", None),
    storage.NoPartsListed: ("InvalidRequest", "You must specify at least one part"),
    storage.ObjectSizeMismatch: ("InvalidRequest", lambda e: f"The provided 'x-amz-mp-object-size' header value "
                                 f"{e.expected} does not match what was computed: {e.actual}"),
    storage.ObjectExists: ("PreconditionFailed", None),
    storage.ETagMismatch: ("PreconditionFailed", None),
    storage.ConditionalConflict: ("ConditionalRequestConflict", None),
    storage.ObjectLocked: ("AccessDenied", "Access Denied because object protected by object lock."),
    storage.NoObjectLockConfiguration: ("InvalidRequest", NO_LOCK_CONFIG),
    storage.VersioningNotEnabled: ("InvalidBucketState", "Versioning must be 'Enabled' on the bucket to apply a "
                                                         "Object Lock configuration"),
    # the server's own troubles: the client learns what happened
    storage.NotArchived: ("InvalidObjectState", "Restore is not allowed for the object's current storage class"),
    storage.RestoreInProgress: ("RestoreAlreadyInProgress", None),
    storage.DataFileMissing: ("InternalError", str),
    storage.DataFileShort: ("InternalError", str),
    storage.StorageFull: ("InternalError", str),
    storage.TooManyOpenFiles: ("SlowDown", None),  # a 503 clients retry
}
