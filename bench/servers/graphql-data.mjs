// The GraphQL bench's schema and in-memory data, shared by the covet and mercurius servers: 100 users,
// each with 10 posts, each with 5 comments; the query walks three levels.
export const typeDefs = `
  type Comment { id: Int!, body: String! }
  type Post { id: Int!, title: String!, comments(first: Int): [Comment!]! }
  type User { id: Int!, name: String!, posts(first: Int): [Post!]! }
  type Query { users(first: Int): [User!]! }
`;
const users = Array.from({ length: 100 }, (_, u) => ({
  id: u,
  name: `user ${u}`,
  posts: Array.from({ length: 10 }, (_, p) => ({ id: u * 100 + p, title: `post ${p} of ${u}`, comments: Array.from({ length: 5 }, (_, c) => ({ id: c, body: `comment ${c}` })) })),
}));
export const resolvers = {
  Query: { users: (_r, a) => users.slice(0, a.first ?? 10) },
  User: { posts: (u, a) => u.posts.slice(0, a.first ?? 10) },
  Post: { comments: (p, a) => p.comments.slice(0, a.first ?? 5) },
};
export const QUERY = '{ users(first: 10) { id name posts(first: 5) { id title comments(first: 3) { id body } } } }';
