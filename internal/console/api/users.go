package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/otwatch/otwatch/internal/console/auth"
	"github.com/otwatch/otwatch/internal/store"
)

// me is who is logged in.
type me struct {
	Name      string     `json:"name"`
	FullName  string     `json:"full_name,omitempty"`
	Role      store.Role `json:"role"`
	Auth      string     `json:"auth"`
	CSRFToken string     `json:"csrf_token,omitempty"`
	Expires   time.Time  `json:"expires,omitzero"`
}

func meOf(p *auth.Principal) me {
	m := me{Name: p.User, FullName: p.FullName, Role: p.Role, Auth: string(p.Method)}
	if p.Session != nil {
		m.CSRFToken, m.Expires = p.Session.CSRF, p.Session.Expires
	}
	if p.Token != nil {
		m.Expires = p.Token.Expires
	}
	return m
}

func (a *API) login(c *call) (any, error) {
	if err := auth.CheckOrigin(c.r); err != nil {
		return nil, errorf(http.StatusForbidden, "login refused: the request comes from another site")
	}
	var in struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	s, secret, err := a.auth.Login(c.ctx, in.Name, in.Password, a.auth.ClientIP(c.r))
	if err != nil {
		return nil, err
	}
	a.auth.SetSessionCookie(c.w, secret)
	u, err := a.st.User(c.ctx, s.User)
	if err != nil {
		return nil, err
	}
	return meOf(&auth.Principal{User: u.Name, FullName: u.FullName, Role: u.Role, Method: auth.MethodSession, Session: &s}), nil
}

func (a *API) logout(c *call) (any, error) {
	if err := a.auth.Logout(c.ctx, c.p); err != nil {
		return nil, err
	}
	if c.p.Session != nil {
		a.auth.ClearSessionCookie(c.w)
	}
	return noContent{}, nil
}

func (a *API) me(c *call) (any, error) { return meOf(c.p), nil }

func (a *API) changePassword(c *call) (any, error) {
	var in struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if err := a.auth.ChangePassword(c.ctx, c.p, in.Current, in.New); err != nil {
		if errors.Is(err, auth.ErrInvalidCredentials) {
			return nil, errorf(http.StatusForbidden, "the current password is wrong")
		}
		return nil, err
	}
	return noContent{}, nil
}

// token is an API token as the API shows it: without the hash of its
// secret.
type token struct {
	ID       string    `json:"id"`
	User     string    `json:"user"`
	Name     string    `json:"name"`
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"last_used,omitzero"`
	Expires  time.Time `json:"expires,omitzero"`
}

func tokenOf(t auth.Token) token {
	return token{ID: t.ID, User: t.User, Name: t.Name, Created: t.Created, LastUsed: t.LastUsed, Expires: t.Expires}
}

func (a *API) listTokens(c *call) (any, error) {
	user := c.query("user")
	switch {
	case user != "" && user != c.p.User && !c.p.Allowed(store.RoleAdmin):
		return nil, errorf(http.StatusForbidden, "only admins may list other users' tokens")
	case user == "" && !c.p.Allowed(store.RoleAdmin):
		user = c.p.User
	}
	ts, err := a.auth.Tokens(c.ctx, user)
	if err != nil {
		return nil, err
	}
	out := make([]token, len(ts))
	for i, t := range ts {
		out[i] = tokenOf(t)
	}
	return map[string][]token{"tokens": out}, nil
}

func (a *API) createToken(c *call) (any, error) {
	var in struct {
		Name    string `json:"name"`
		User    string `json:"user"`
		Expires int    `json:"expires_in_days"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.User == "" {
		in.User = c.p.User
	}
	if in.User != c.p.User && !c.p.Allowed(store.RoleAdmin) {
		return nil, errorf(http.StatusForbidden, "only admins may create tokens for other users")
	}
	t, secret, err := a.auth.CreateToken(c.ctx, in.User, in.Name, time.Duration(in.Expires)*24*time.Hour, c.actor())
	if err != nil {
		return nil, err
	}
	return struct {
		Token  token  `json:"token"`
		Secret string `json:"secret"`
	}{tokenOf(t), secret}, nil
}

func (a *API) deleteToken(c *call) (any, error) {
	id := c.r.PathValue("id")
	t, err := a.auth.Token(c.ctx, id)
	if err != nil {
		return nil, err
	}
	if t.User != c.p.User && !c.p.Allowed(store.RoleAdmin) {
		return nil, errorf(http.StatusForbidden, "only admins may delete other users' tokens")
	}
	return noContent{}, a.auth.DeleteToken(c.ctx, id, c.actor())
}

func (a *API) listUsers(c *call) (any, error) {
	us, err := a.st.Users(c.ctx)
	if us == nil {
		us = []store.User{}
	}
	return map[string][]store.User{"users": us}, err
}

func (a *API) createUser(c *call) (any, error) {
	var in struct {
		Name     string     `json:"name"`
		FullName string     `json:"full_name"`
		Role     store.Role `json:"role"`
		Password string     `json:"password"`
		Disabled bool       `json:"disabled"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return a.auth.CreateUser(c.ctx, store.User{Name: in.Name, FullName: in.FullName, Role: in.Role, Disabled: in.Disabled}, in.Password, c.actor())
}

func (a *API) getUser(c *call) (any, error) { return a.st.User(c.ctx, c.r.PathValue("name")) }

func (a *API) updateUser(c *call) (any, error) {
	var in struct {
		FullName *string     `json:"full_name"`
		Role     *store.Role `json:"role"`
		Password *string     `json:"password"`
		Disabled *bool       `json:"disabled"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return a.auth.UpdateUser(c.ctx, c.r.PathValue("name"), auth.UserUpdate{FullName: in.FullName, Role: in.Role,
		Password: in.Password, Disabled: in.Disabled}, c.actor())
}

func (a *API) deleteUser(c *call) (any, error) {
	return noContent{}, a.auth.DeleteUser(c.ctx, c.r.PathValue("name"), c.actor())
}

func (a *API) listAudit(c *call) (any, error) {
	q := store.AuditQuery{Actor: c.query("actor"), Action: c.query("action"), Object: c.query("object"),
		Cursor: c.query("cursor"), Limit: c.queryInt("limit")}
	var err error
	if q.From, err = parseTime("from", c.query("from")); err != nil {
		return nil, err
	}
	if q.Until, err = parseTime("until", c.query("until")); err != nil {
		return nil, err
	}
	if err := checkCursor(q.Cursor); err != nil {
		return nil, err
	}
	p, err := a.st.Audit(c.ctx, q)
	if p.Entries == nil {
		p.Entries = []store.AuditEntry{}
	}
	return p, err
}
