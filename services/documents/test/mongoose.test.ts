// Mongoose against the wire port: a schema with types, defaults, validation, a unique index, population across
// collections, and queries / updates through the model API.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mongoose, { Schema } from 'mongoose';
import { createProject, platform } from '@basalt/testkit';

let conn: mongoose.Connection;
before(async () => {
  const p = await createProject('docs-mongoose');
  const cred = await platform(`/projects/${p.ref}/documents/credentials`, { method: 'POST' });
  conn = await mongoose.createConnection(cred.uri, { serverSelectionTimeoutMS: 3000 }).asPromise();
});
after(() => conn?.close());

test('schema round-trip: defaults, types, validation, unique index, populate, update and delete', async () => {
  const Author = conn.model('Author', new Schema({ name: { type: String, required: true }, email: { type: String, unique: true } }));
  const Post = conn.model('Post', new Schema({
    title: { type: String, required: true, maxlength: 50 },
    author: { type: Schema.Types.ObjectId, ref: 'Author' },
    tags: [String],
    views: { type: Number, default: 0 },
    published: { type: Date, default: () => new Date('2024-06-01T00:00:00Z') },
    price: Schema.Types.Decimal128,
    meta: { likes: Number, flags: { type: Map, of: Boolean } },
  }, { timestamps: true }));
  await Author.init();
  const ada = await Author.create({ name: 'Ada', email: 'ada@x.io' });
  await assert.rejects(Author.create({ name: 'Other', email: 'ada@x.io' }), (e: any) => e.code === 11000);
  const post = await Post.create({ title: 'Engines', author: ada._id, tags: ['math', 'history'], price: '9.99', meta: { likes: 3, flags: { hot: true } } });
  assert.equal(post.views, 0);
  await assert.rejects(Post.create({ title: 'x'.repeat(60) }), /maxlength|longer than/);

  const loaded = await Post.findById(post._id).populate('author').lean();
  assert.equal((loaded!.author as any).name, 'Ada');
  assert.deepEqual(loaded!.tags, ['math', 'history']);
  assert.equal(String(loaded!.price), '9.99');
  assert.equal(loaded!.published.toISOString(), '2024-06-01T00:00:00.000Z');
  assert.ok(loaded!.createdAt instanceof Date);
  assert.equal((loaded!.meta as any).flags.hot, true);

  await Post.updateOne({ _id: post._id }, { $inc: { views: 5 }, $addToSet: { tags: 'computing' } });
  const found = await Post.find({ tags: 'computing', views: { $gte: 5 } }).sort({ title: 1 }).lean();
  assert.equal(found.length, 1);
  assert.equal(found[0].views, 5);
  const updated = await Post.findOneAndUpdate({ title: 'Engines' }, { $set: { title: 'Analytical Engines' } }, { new: true });
  assert.equal(updated!.title, 'Analytical Engines');
  assert.equal(await Post.countDocuments({ author: ada._id }), 1);
  await Post.deleteOne({ _id: post._id });
  assert.equal(await Post.countDocuments(), 0);
});
