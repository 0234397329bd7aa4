package lease

// AcquireRequest asks for the lease of DatabaseKey for HolderID.
type AcquireRequest struct {
	// Principal is the caller; it must allow DatabaseKey, and it becomes
	// the lease's principal.
	Principal   Principal
	DatabaseKey string
	HolderID    string
	TTLMs       uint64
	// Term is the replication term to stamp; callers pass DefaultTerm when
	// they have none.
	Term uint64
}

// RefreshRequest extends the lease of one generation.
type RefreshRequest struct {
	// Principal is the caller; it must allow DatabaseKey and be the
	// lease's principal.
	Principal   Principal
	DatabaseKey string
	HolderID    string
	Generation  uint64
	TTLMs       uint64
	// CurrentTerm, when non-zero, fences a lease whose term is behind it.
	CurrentTerm uint64
	// Term, when non-zero, is the term the caller's lease was acquired at.
	// With CurrentTerm it lets the fence refuse before any storage I/O; it
	// must also match the stored lease.
	Term uint64
}

// ReleaseRequest gives one generation up.
type ReleaseRequest struct {
	// Principal is the caller; it must allow DatabaseKey and be the
	// lease's principal.
	Principal   Principal
	DatabaseKey string
	HolderID    string
	Generation  uint64
}

// ForceReleaseRequest is the break-glass release of whatever lease a key
// has, by an admin principal whose prefixes allow the key.
type ForceReleaseRequest struct {
	Principal   Principal
	DatabaseKey string
}

// ForceReleased is what a break-glass release did, for the caller's log.
type ForceReleased struct {
	// Lease is the released lease; its HolderID is the holder it was
	// taken from.
	Lease Lease
	// Principal is the principal the lease belonged to ("" for a record
	// written before principals existed).
	Principal string
	// AlreadyReleased is true when the lease had been released before;
	// nothing was written.
	AlreadyReleased bool
}

// Snapshot is a lease read back together with its condition at read time.
type Snapshot struct {
	Lease       Lease
	State       State
	ExpiresInMs uint64
	ReadAtMs    uint64
}

// The validators check the request's fields (400), then the principal
// against the key (403), all before any storage request.

func (s *Service) validateAcquire(r AcquireRequest) error {
	if err := s.limits.ValidateKey(r.DatabaseKey); err != nil {
		return err
	}
	if err := s.limits.ValidateHolder(r.HolderID); err != nil {
		return err
	}
	if err := s.limits.ValidateTTL(r.TTLMs); err != nil {
		return err
	}
	if err := ValidatePositive("term", r.Term); err != nil {
		return err
	}
	return authorize(r.Principal, r.DatabaseKey)
}

func (s *Service) validateRefresh(r RefreshRequest) error {
	if err := s.limits.ValidateKey(r.DatabaseKey); err != nil {
		return err
	}
	if err := s.limits.ValidateHolder(r.HolderID); err != nil {
		return err
	}
	if err := ValidatePositive("generation", r.Generation); err != nil {
		return err
	}
	if err := s.limits.ValidateTTL(r.TTLMs); err != nil {
		return err
	}
	if r.CurrentTerm != 0 {
		if err := ValidatePositive("current_term", r.CurrentTerm); err != nil {
			return err
		}
	}
	if r.Term != 0 {
		if err := ValidatePositive("term", r.Term); err != nil {
			return err
		}
	}
	return authorize(r.Principal, r.DatabaseKey)
}

func (s *Service) validateRelease(r ReleaseRequest) error {
	if err := s.limits.ValidateKey(r.DatabaseKey); err != nil {
		return err
	}
	if err := s.limits.ValidateHolder(r.HolderID); err != nil {
		return err
	}
	if err := ValidatePositive("generation", r.Generation); err != nil {
		return err
	}
	return authorize(r.Principal, r.DatabaseKey)
}

func (s *Service) validateForceRelease(r ForceReleaseRequest) error {
	if err := s.limits.ValidateKey(r.DatabaseKey); err != nil {
		return err
	}
	if err := authorize(r.Principal, r.DatabaseKey); err != nil {
		return err
	}
	if !r.Principal.Admin {
		return &ForbiddenError{Principal: r.Principal.Name, Key: r.DatabaseKey, Reason: ReasonNotAdmin}
	}
	return nil
}
