export * from './imported-key-base';
export * from './imported-kms-key';
export * from './key-material';
export * from './key-material-expiration';
export * from './wrapping';
export * from './imported-kms-replica-key';
export * from './imported-key-material';
export * from './key-material-lock';
